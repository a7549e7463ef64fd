//! A squeeze-and-excite block's channel scale, `Mul(x, gate)` with `x` `[1, C, H, W]` and the
//! computed gate `[1, C, 1, 1]`, read only by a float pointwise conv, becomes that conv's input
//! channel scale (its fourth input). Lowering then scales the conv's packed weights, `K x N`
//! of them, instead of the `H x W x C` feature map: `sum_k (x[k] * s[k]) * w[k][n]` is
//! `sum_k x[k] * (s[k] * w[k][n])`. It applies where the weights are at most half the map,
//! `2 * N <= H * W`: on Zen 4 the SE blocks of MobileNetV3-Large at 28x28 took 7 to 9 us for
//! the Mul and 1 to 2 us for the weights; at 14x14 (`N` 112 against 196 pixels) both took the
//! same, 10 to 16 us, and at 7x7 the weights outweigh the map: there the Mul stays.

use crate::error::Result;
use crate::ir::{BinaryOp, DType, Graph, Op};

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        if let Some((x, gate)) = channel_scale(graph, index) {
            let out = graph.nodes[index].outputs[0];
            let readers = graph.consumers(out);
            if let [conv] = readers[..]
                && graph.use_count(out) == 1
                && graph.nodes[conv].input(0) == Some(out)
                && pointwise_pays(graph, conv)
            {
                let node = &mut graph.nodes[conv];
                node.inputs.resize(3, None);
                node.inputs[0] = Some(x);
                node.inputs.push(Some(gate));
                graph.nodes.remove(index);
                continue;
            }
        }
        index += 1;
    }
    Ok(())
}

/// `(x, gate)` if node `index` is a float `Mul` of a `[1, C, H, W]` value by a computed
/// `[1, C, 1, 1]` one, in either order.
fn channel_scale(graph: &Graph, index: usize) -> Option<(usize, usize)> {
    let node = &graph.nodes[index];
    if node.op != Op::Binary(BinaryOp::Mul) || node.inputs.len() != 2 {
        return None;
    }
    let (a, b) = (node.input(0)?, node.input(1)?);
    let float = |v: usize| graph.values[v].dtype == DType::F32 && graph.constant(v).is_none();
    if !(float(a) && float(b)) {
        return None;
    }
    let (sa, sb) = (graph.shape(a)?, graph.shape(b)?);
    let is_gate = |g: &[usize], x: &[usize]| {
        x.len() == 4 && x[0] == 1 && g == [1, x[1], 1, 1] && x[2] * x[3] > 1
    };
    if is_gate(sb, sa) {
        Some((a, b))
    } else if is_gate(sa, sb) {
        Some((b, a))
    } else {
        None
    }
}

/// Whether node `conv` is a float pointwise conv without an input scale of its own, with at
/// most half as many output channels `N` as its input has pixels.
fn pointwise_pays(graph: &Graph, conv: usize) -> bool {
    let node = &graph.nodes[conv];
    let Op::Conv(c) = &node.op else {
        return false;
    };
    let pointwise = c.group == 1
        && c.window.kernel == [1, 1]
        && c.window.strides == [1, 1]
        && c.window.pads == [0; 4];
    let (Some(x), Some(w)) = (node.input(0), node.input(1)) else {
        return false;
    };
    let (Some(xs), Some(ws)) = (graph.shape(x), graph.shape(w)) else {
        return false;
    };
    pointwise
        && node.inputs.len() <= 3
        && graph.constant(w).is_some()
        && node
            .outputs
            .iter()
            .all(|&y| graph.values[y].dtype == DType::F32)
        && 2 * ws[0] <= xs[2] * xs[3]
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    /// A squeeze-and-excite block: pool, reduce, expand with hard-sigmoid, scale, project.
    fn se_block(input: &[usize], project: usize, gate_first: bool) -> Graph {
        let c = input[1];
        let mut b = GraphBuilder::new(input);
        let pool = b.node("pool", Op::Pool(PoolOp::GlobalAveragePool), &[Some(b.x)]);
        let (w1, b1) = (b.weights(&[4, c, 1, 1], 1), b.weights(&[4], 2));
        let r = b.node(
            "reduce",
            conv(1, 1, 0, 1),
            &[Some(pool), Some(w1), Some(b1)],
        );
        let r = b.node(
            "relu",
            Op::Activation(ActivationOp::Clip(Clamp::RELU)),
            &[Some(r)],
        );
        let (w2, b2) = (b.weights(&[c, 4, 1, 1], 3), b.weights(&[c], 4));
        let e = b.node("expand", conv(1, 1, 0, 1), &[Some(r), Some(w2), Some(b2)]);
        let hs = ActivationOp::HardSigmoid {
            alpha: 1.0 / 6.0,
            beta: 0.5,
        };
        let g = b.node("gate", Op::Activation(hs), &[Some(e)]);
        let ops = if gate_first {
            [Some(g), Some(b.x)]
        } else {
            [Some(b.x), Some(g)]
        };
        let m = b.node("scale", Op::Binary(BinaryOp::Mul), &ops);
        let (w3, b3) = (b.weights(&[project, c, 1, 1], 5), b.weights(&[project], 6));
        let y = b.node("project", conv(1, 1, 0, 1), &[Some(m), Some(w3), Some(b3)]);
        b.finish(y)
    }

    fn mul_count(g: &Graph) -> usize {
        g.nodes
            .iter()
            .filter(|n| n.op == Op::Binary(BinaryOp::Mul))
            .count()
    }

    #[test]
    fn the_gate_moves_into_the_projection_in_either_operand_order() {
        for gate_first in [false, true] {
            let g = check_same_function(se_block(&[1, 8, 6, 6], 5, gate_first));
            assert_eq!(mul_count(&g), 0);
            let project = g.nodes.last().unwrap();
            assert_eq!(project.inputs.len(), 4, "{gate_first}");
            assert_eq!(Some(project.inputs[0]), Some(Some(g.input.value)));
        }
    }

    /// At 2x2 the five output channels' weights outweigh the map: the Mul stays.
    #[test]
    fn the_scale_stays_where_the_weights_outweigh_the_map() {
        let g = check_same_function(se_block(&[1, 8, 2, 2], 5, false));
        assert_eq!(mul_count(&g), 1);
        assert_eq!(g.nodes.last().unwrap().inputs.len(), 3);
    }
}
