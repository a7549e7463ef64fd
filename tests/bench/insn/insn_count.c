/*
 * A QEMU TCG plugin that counts the guest instructions a program executes and prints the total
 * to stderr at exit ("insn_count: N"). Each translated block adds its instruction count to one
 * counter every time it runs (an inline add, no callback), so the count is exact up to blocks
 * left early by a fault, which these programs do not take.
 *
 * Built against the plugin API header of the QEMU that runs it (count.sh takes it from Debian's
 * source package of qemu-user): cc -shared -fPIC -I<qemu>/include/qemu insn_count.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t executed;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *data)
{
    (void)id;
    (void)data;
    fprintf(stderr, "insn_count: %" PRIu64 "\n", executed);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
