#!/usr/bin/env bash
# `apt-source.sh PACKAGE VERSION DIR`: downloads Debian source package PACKAGE at VERSION (its
# .dsc and tarballs, not unpacked) into DIR with apt, from the deb-src twins of the machine's own
# apt sources (deb822 `.sources` and one-line `.list` entries), using an apt state under DIR:
# no root, and the system's sources and lists stay as they are. No address is written here: the
# files come from wherever the machine's apt sources point.
set -euo pipefail
package="$1" version="$2" out="$3"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
state="$out/.apt"
mkdir -p "$state/sources.list.d" "$state/lists/partial" "$state/cache/archives/partial"
: > "$state/sources.list"
if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list >> "$state/sources.list"
fi
for f in /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >> "$state/sources.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$state/sources.list.d/$(basename "$f")"
done
apt_opts=(
    -o "Dir::Etc::SourceList=$state/sources.list"
    -o "Dir::Etc::SourceParts=$state/sources.list.d"
    -o "Dir::State::Lists=$state/lists"
    -o "Dir::Cache=$state/cache"
    -o "Debug::NoLocking=1"
)
# As root, apt would hand the download to its `_apt` user, who cannot write here.
if [ "$(id -u)" -eq 0 ]; then apt_opts+=(-o "APT::Sandbox::User=root"); fi
apt-get "${apt_opts[@]}" update -qq
cd "$out"
apt-get "${apt_opts[@]}" source --download-only -qq "$package=$version"
