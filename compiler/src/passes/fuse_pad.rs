//! A zero `Pad` on the spatial axes of a 4-D tensor, read only by a conv, becomes part of that
//! conv's padding (tf2onnx writes explicit Pads before stride-2 convs).

use crate::error::Result;
use crate::ir::ShapeOp;
use crate::ir::{Graph, Op};
use crate::ops::shape::{pad_amounts, pad_value};

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        if let Some(pads) = spatial_zero_pads(graph, index)? {
            let out = graph.nodes[index].outputs[0];
            let readers = graph.consumers(out);
            let single_conv = readers.len() == 1
                && graph.use_count(out) == 1
                && matches!(graph.nodes[readers[0]].op, Op::Conv(_))
                && graph.nodes[readers[0]].input(0) == Some(out);
            if single_conv {
                let source = graph.nodes[index].inputs[0];
                let conv = &mut graph.nodes[readers[0]];
                if let Op::Conv(c) = &mut conv.op {
                    for (p, add) in c.window.pads.iter_mut().zip(pads) {
                        *p += add;
                    }
                }
                conv.inputs[0] = source;
                graph.nodes.remove(index);
                continue;
            }
        }
        index += 1;
    }
    Ok(())
}

/// `[top, left, bottom, right]` if node `index` is a zero Pad of only H and W of an NCHW tensor.
fn spatial_zero_pads(graph: &Graph, index: usize) -> Result<Option<[usize; 4]>> {
    let node = &graph.nodes[index];
    let Op::Shape(ShapeOp::Pad) = &node.op else {
        return Ok(None);
    };
    let rank = graph
        .shape(node.inputs[0].expect("data input"))
        .map_or(0, <[usize]>::len);
    if pad_value(graph, node)? != 0.0 || rank != 4 {
        return Ok(None);
    }
    let a = pad_amounts(graph, node, rank)?;
    if a[0] != (0, 0) || a[1] != (0, 0) || a.iter().any(|&(b, e)| b < 0 || e < 0) {
        return Ok(None);
    }
    Ok(Some([
        a[2].0 as usize,
        a[3].0 as usize,
        a[2].1 as usize,
        a[3].1 as usize,
    ]))
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    #[test]
    fn asymmetric_pad_moves_into_the_conv() {
        let mut b = GraphBuilder::new(&[1, 3, 9, 8]);
        let pads = b.constant(Tensor::i64(vec![8], vec![0, 0, 0, 1, 0, 0, 1, 0]));
        let p = b.node("pad", Op::Shape(ShapeOp::Pad), &[Some(b.x), Some(pads)]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let mut op = conv(3, 2, 0, 1);
        if let Op::Conv(c) = &mut op {
            c.window.pads = [0, 0, 1, 1];
        }
        let y = b.node("conv", op, &[Some(p), Some(w), None]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 1);
        let Op::Conv(c) = &g.nodes[0].op else {
            panic!()
        };
        assert_eq!(c.window.pads, [0, 1, 2, 1]);
    }
}
