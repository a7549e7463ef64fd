//! Relu and Clip (ReLU6 or any constant bounds) after a conv or dense layer that has no other
//! reader become that layer's clamp epilogue, composed with any clamp it already has.

use crate::error::Result;
use crate::interp::clip_bounds;
use crate::ir::{Graph, Op};

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        let node = &graph.nodes[index];
        if let (Op::Clip(attr), Some(producer)) = (&node.op, graph.sole_producer(index)) {
            let bounds: Vec<_> = node
                .inputs
                .iter()
                .map(|i| i.and_then(|id| graph.constant(id)))
                .collect();
            let clamp = clip_bounds(node, *attr, &bounds)?;
            let act = match &mut graph.nodes[producer].op {
                Op::Conv(c) => Some(&mut c.act),
                Op::Dense { act } => Some(act),
                _ => None,
            };
            if let Some(act) = act {
                *act = act.then(clamp);
                graph.absorb_into_producer(index);
                continue;
            }
        }
        index += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    #[test]
    fn relu6_from_constants_and_relu_fuse_into_convs() {
        let mut b = GraphBuilder::new(&[1, 3, 6, 6]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
        let lo = b.constant(Tensor::f32(vec![], vec![0.0]));
        let hi = b.constant(Tensor::f32(vec![], vec![0.25]));
        let r6 = b.node(
            "clip",
            Op::Clip(Clamp::LINEAR),
            &[Some(c), Some(lo), Some(hi)],
        );
        let w2 = b.weights(&[4, 1, 3, 3], 2);
        let d = b.node("dw", conv(3, 1, 1, 4), &[Some(r6), Some(w2), None]);
        let y = b.node("relu", Op::Clip(Clamp::RELU), &[Some(d)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 2);
        let Op::Conv(c) = &g.nodes[0].op else {
            panic!()
        };
        assert_eq!(
            c.act,
            Clamp {
                min: 0.0,
                max: 0.25
            }
        );
        let Op::Conv(d) = &g.nodes[1].op else {
            panic!()
        };
        assert_eq!(d.act, Clamp::RELU);
    }

    #[test]
    fn an_activation_with_a_second_reader_of_its_input_stays() {
        // A residual block: the conv output is read by the Clip and by the Add.
        let mut b = GraphBuilder::new(&[1, 2, 4, 4]);
        let w = b.weights(&[2, 2, 1, 1], 1);
        let c = b.node("conv", conv(1, 1, 0, 1), &[Some(b.x), Some(w), None]);
        let r = b.node("relu", Op::Clip(Clamp::RELU), &[Some(c)]);
        let y = b.node("add", Op::Binary(BinaryOp::Add), &[Some(r), Some(c)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 3);
    }
}
