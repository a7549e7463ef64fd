//! Dead-node removal: bypasses identities (Identity, Dropout, reshapes that keep the shape),
//! removes nodes nothing reads, and drops values no node or output refers to (the weights that
//! folding replaced), renumbering the rest.

use crate::error::Result;
use crate::ir::{Graph, ValueId};

pub fn run(graph: &mut Graph) -> Result<()> {
    bypass_identities(graph);
    remove_unused_nodes(graph, |_| true);
    compact_values(graph);
    Ok(())
}

fn bypass_identities(graph: &mut Graph) {
    let mut index = 0;
    while index < graph.nodes.len() {
        let node = &graph.nodes[index];
        let (input, output) = (node.inputs[0], node.outputs[0]);
        let identity = node.op.is_reshape_like()
            && input
                .is_some_and(|i| graph.shape(i).is_some() && graph.shape(i) == graph.shape(output));
        if let (true, Some(input)) = (identity, input) {
            if !graph.outputs.contains(&output) {
                graph.replace_uses(output, input);
                graph.nodes.remove(index);
                continue;
            }
            // A graph output keeps its name: its producer writes it directly.
            if graph.sole_producer(index).is_some() {
                graph.absorb_into_producer(index);
                continue;
            }
        }
        index += 1;
    }
}

/// Removes the nodes for which `which` holds and whose outputs nothing reads (also
/// `passes::quantize`'s clean-up, for its quantize and dequantize nodes).
pub(crate) fn remove_unused_nodes(graph: &mut Graph, which: impl Fn(&crate::ir::Node) -> bool) {
    // Nodes are in topological order: walking backwards sees every reader before its producer.
    let mut index = graph.nodes.len();
    while index > 0 {
        index -= 1;
        let node = &graph.nodes[index];
        if which(node) && node.outputs.iter().all(|&o| graph.use_count(o) == 0) {
            graph.nodes.remove(index);
        }
    }
}

fn compact_values(graph: &mut Graph) {
    let mut used = vec![false; graph.values.len()];
    used[graph.input.value] = true;
    for &o in &graph.outputs {
        used[o] = true;
    }
    for node in &graph.nodes {
        for &id in node.inputs.iter().flatten().chain(&node.outputs) {
            used[id] = true;
        }
    }
    let mut map: Vec<Option<ValueId>> = vec![None; graph.values.len()];
    let mut values = Vec::new();
    for (id, value) in std::mem::take(&mut graph.values).into_iter().enumerate() {
        if used[id] {
            map[id] = Some(values.len());
            values.push(value);
        }
    }
    let remap = |id: &mut ValueId| *id = map[*id].expect("kept");
    graph.values = values;
    remap(&mut graph.input.value);
    graph.outputs.iter_mut().for_each(remap);
    for node in &mut graph.nodes {
        node.inputs.iter_mut().flatten().for_each(remap);
        node.outputs.iter_mut().for_each(remap);
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    #[test]
    fn identities_and_unused_branches_disappear() {
        let mut b = GraphBuilder::new(&[1, 2, 4, 4]);
        let i = b.node("id", Op::Shape(ShapeOp::Identity), &[Some(b.x)]);
        let w = b.weights(&[2, 2, 1, 1], 1);
        let c = b.node("conv", conv(1, 1, 0, 1), &[Some(i), Some(w), None]);
        let _unused = b.node("gap", Op::Pool(PoolOp::GlobalAveragePool), &[Some(i)]);
        let y = b.node("out", Op::Shape(ShapeOp::Identity), &[Some(c)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.values[g.outputs[0]].name, "out_out");
        assert_eq!(
            g.values.len(),
            3,
            "input, weight, output: {:?}",
            g.values.iter().map(|v| &v.name).collect::<Vec<_>>()
        );
    }
}
