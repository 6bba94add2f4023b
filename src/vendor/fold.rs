//! Folding a quantised ONNX model's weights back to float.
//!
//! A weight-only quantised model keeps each weight as int8 plus scales and zero points, and
//! computes `(q - zero_point) * scale` (DequantizeLinear, here in blocks along one axis),
//! sometimes followed by a Reshape, in the graph on every run. The SFace file we use does this
//! and also leaves stale graph inputs named like the weights, which ONNX Runtime then demands
//! at run time. Folding does the arithmetic once: every DequantizeLinear (and Reshape of its
//! result) whose inputs are all initialisers becomes a float initialiser, the nodes and the
//! int8 tensors go, and graph inputs that are now initialisers or unused go too. Everything
//! else in the file passes through byte for byte, so the result is deterministic.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, ensure, Context};

use super::protobuf::{self, Field, Value};

// Field numbers from onnx.proto.
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_INPUT: u32 = 11;
const GRAPH_OUTPUT: u32 = 12;
const GRAPH_VALUE_INFO: u32 = 13;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_OP_TYPE: u32 = 4;
const NODE_ATTRIBUTE: u32 = 5;
const ATTRIBUTE_NAME: u32 = 1;
const ATTRIBUTE_I: u32 = 3;
const TENSOR_DIMS: u32 = 1;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_FLOAT_DATA: u32 = 4;
const TENSOR_INT32_DATA: u32 = 5;
const TENSOR_INT64_DATA: u32 = 7;
const TENSOR_NAME: u32 = 8;
const TENSOR_RAW_DATA: u32 = 9;
const VALUE_INFO_NAME: u32 = 1;

const FLOAT: u64 = 1;
const UINT8: u64 = 2;
const INT8: u64 = 3;
const INT64: u64 = 7;

/// A tensor's shape and values as numbers.
struct Tensor {
    dims: Vec<usize>,
    values: Vec<f64>,
}

fn bytes_of<'a>(fields: &[Field<'a>], number: u32) -> Option<&'a [u8]> {
    fields.iter().find_map(|(n, v)| match v {
        Value::Bytes(b) if *n == number => Some(*b),
        _ => None,
    })
}

fn read_tensor(fields: &[Field<'_>]) -> anyhow::Result<Tensor> {
    let dims = protobuf::varints(fields, TENSOR_DIMS)?
        .into_iter()
        .map(usize::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let data_type = protobuf::varints(fields, TENSOR_DATA_TYPE)?
        .first()
        .copied()
        .context("tensor without a data type")?;
    let raw = bytes_of(fields, TENSOR_RAW_DATA);
    let values: Vec<f64> = match (data_type, raw) {
        (FLOAT, Some(raw)) => raw
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        (FLOAT, None) => {
            let mut out = Vec::new();
            for (n, v) in fields.iter().filter(|(n, _)| *n == TENSOR_FLOAT_DATA) {
                match v {
                    Value::Fixed32(b) => out.push(f64::from(f32::from_le_bytes(*b))),
                    Value::Bytes(b) => out.extend(
                        b.chunks_exact(4)
                            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
                    ),
                    _ => bail!("field {n}: float data of an unexpected wire type"),
                }
            }
            out
        }
        (INT8, Some(raw)) => raw.iter().map(|&b| f64::from(b as i8)).collect(),
        (UINT8, Some(raw)) => raw.iter().map(|&b| f64::from(b)).collect(),
        (INT8 | UINT8, None) => protobuf::varints(fields, TENSOR_INT32_DATA)?
            .into_iter()
            .map(|v| f64::from(v as i64 as i32))
            .collect(),
        (INT64, Some(raw)) => raw
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        (INT64, None) => protobuf::varints(fields, TENSOR_INT64_DATA)?
            .into_iter()
            .map(|v| v as i64 as f64)
            .collect(),
        (t, _) => bail!("tensor data type {t} is not handled"),
    };
    let count: usize = dims.iter().product();
    ensure!(
        values.len() == count,
        "tensor holds {} values for shape {dims:?}",
        values.len()
    );
    Ok(Tensor { dims, values })
}

/// `(q - zero_point) * scale`, with the scale per tensor, per axis, or per block of
/// `block_size` along `axis` (DequantizeLinear, opsets 10–21).
fn dequantize(
    q: &Tensor,
    scale: &Tensor,
    zero: Option<&Tensor>,
    axis: i64,
    block_size: usize,
) -> anyhow::Result<Tensor> {
    let rank = q.dims.len() as i64;
    let axis = usize::try_from(if axis < 0 { axis + rank } else { axis })
        .ok()
        .filter(|&a| a < q.dims.len().max(1))
        .context("axis out of range")?;
    let d = q.dims.get(axis).copied().unwrap_or(1);
    let outer: usize = q.dims[..axis.min(q.dims.len())].iter().product();
    let inner: usize = q.dims.get(axis + 1..).map_or(1, |r| r.iter().product());
    // Which scale each value uses: along `axis`, index k belongs to scale k / step.
    let (along, step) = if scale.values.len() == 1 {
        (1, d.max(1))
    } else if block_size > 0 {
        (d.div_ceil(block_size), block_size)
    } else {
        (d, 1)
    };
    let per_axis_only = block_size == 0 && scale.dims.len() == 1 && scale.values.len() > 1;
    let expected = if scale.values.len() == 1 || per_axis_only {
        along
    } else {
        outer * along * inner
    };
    ensure!(
        scale.values.len() == expected,
        "{} scales for a {:?} tensor (axis {axis}, block {block_size})",
        scale.values.len(),
        q.dims
    );
    if let Some(z) = zero {
        ensure!(z.values.len() == scale.values.len(), "zero points ≠ scales");
    }
    let mut values = Vec::with_capacity(q.values.len());
    for o in 0..outer {
        for k in 0..d {
            for i in 0..inner {
                let s = if scale.values.len() == 1 {
                    0
                } else if per_axis_only {
                    k
                } else {
                    (o * along + k / step) * inner + i
                };
                let zp = zero.map_or(0.0, |z| z.values[s]);
                values.push((q.values[(o * d + k) * inner + i] - zp) * scale.values[s]);
            }
        }
    }
    Ok(Tensor {
        dims: q.dims.clone(),
        values,
    })
}

/// Reshape's target shape: 0 copies the input's dimension, one -1 takes what is left.
fn reshaped(dims: &[usize], shape: &[f64]) -> anyhow::Result<Vec<usize>> {
    let total: usize = dims.iter().product();
    let mut out: Vec<i64> = shape
        .iter()
        .enumerate()
        .map(|(i, &s)| match s as i64 {
            0 => dims.get(i).map_or(0, |&d| d as i64),
            s => s,
        })
        .collect();
    let known: i64 = out.iter().filter(|&&s| s > 0).product();
    if let Some(free) = out.iter_mut().find(|s| **s == -1) {
        ensure!(known > 0, "reshape to an empty shape");
        *free = total as i64 / known;
    }
    let out: Vec<usize> = out
        .into_iter()
        .map(usize::try_from)
        .collect::<Result<_, _>>()?;
    ensure!(
        out.iter().product::<usize>() == total,
        "cannot reshape {dims:?} to {shape:?}"
    );
    Ok(out)
}

fn float_initializer(name: &str, t: &Tensor) -> Vec<u8> {
    let dims: Vec<u64> = t.dims.iter().map(|&d| d as u64).collect();
    let packed = protobuf::packed_varints(&dims);
    let raw: Vec<u8> = t
        .values
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    protobuf::write(&[
        (TENSOR_DIMS, Value::Bytes(&packed)),
        (TENSOR_DATA_TYPE, Value::Varint(FLOAT)),
        (TENSOR_NAME, Value::Bytes(name.as_bytes())),
        (TENSOR_RAW_DATA, Value::Bytes(&raw)),
    ])
}

struct Node<'a> {
    op: &'a str,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    ints: HashMap<&'a str, i64>,
}

fn read_node<'a>(bytes: &'a [u8]) -> anyhow::Result<Node<'a>> {
    let fields = protobuf::parse(bytes)?;
    let mut ints = HashMap::new();
    for (_, v) in fields.iter().filter(|(n, _)| *n == NODE_ATTRIBUTE) {
        if let Value::Bytes(b) = v {
            let attribute = protobuf::parse(b)?;
            if let (Some(name), Some(i)) = (
                protobuf::string(&attribute, ATTRIBUTE_NAME),
                protobuf::varints(&attribute, ATTRIBUTE_I)?.first(),
            ) {
                ints.insert(name, *i as i64);
            }
        }
    }
    Ok(Node {
        op: protobuf::string(&fields, NODE_OP_TYPE).unwrap_or_default(),
        inputs: protobuf::strings(&fields, NODE_INPUT).collect(),
        outputs: protobuf::strings(&fields, NODE_OUTPUT).collect(),
        ints,
    })
}

pub fn fold_dequantize(model: &[u8]) -> anyhow::Result<Vec<u8>> {
    let model_fields = protobuf::parse(model).context("not an ONNX model")?;
    let graph_bytes = bytes_of(&model_fields, MODEL_GRAPH).context("the model has no graph")?;
    let graph = protobuf::parse(graph_bytes)?;

    let mut initializers: HashMap<&str, Vec<Field<'_>>> = HashMap::new();
    let mut nodes = Vec::new();
    for (n, v) in &graph {
        if let Value::Bytes(b) = v {
            match *n {
                GRAPH_INITIALIZER => {
                    let fields = protobuf::parse(b)?;
                    let name = protobuf::string(&fields, TENSOR_NAME).unwrap_or_default();
                    initializers.insert(name, fields);
                }
                GRAPH_NODE => nodes.push(read_node(b)?),
                _ => {}
            }
        }
    }
    let constant = |name: &str| -> anyhow::Result<Option<Tensor>> {
        initializers.get(name).map(|f| read_tensor(f)).transpose()
    };

    // Fold in graph order (a Reshape comes after the DequantizeLinear it reads).
    let mut folded: HashMap<&str, Tensor> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut removed = HashSet::new();
    for (i, node) in nodes.iter().enumerate() {
        let tensor = match (node.op, node.inputs.as_slice(), node.outputs.first()) {
            ("DequantizeLinear", [q, s, rest @ ..], Some(_)) => {
                let (Some(q), Some(s)) = (constant(q)?, constant(s)?) else {
                    continue;
                };
                let zero = match rest.first().filter(|z| !z.is_empty()) {
                    Some(z) => match constant(z)? {
                        Some(z) => Some(z),
                        None => continue,
                    },
                    None => None,
                };
                let axis = node.ints.get("axis").copied().unwrap_or(1);
                let block = node.ints.get("block_size").copied().unwrap_or(0);
                dequantize(&q, &s, zero.as_ref(), axis, usize::try_from(block)?)
                    .with_context(|| format!("dequantizing {}", node.outputs[0]))?
            }
            ("Reshape", [data, shape], Some(_)) if folded.contains_key(data) => {
                let Some(shape) = constant(shape)? else {
                    continue;
                };
                let source = &folded[data];
                Tensor {
                    dims: reshaped(&source.dims, &shape.values)?,
                    values: source.values.clone(),
                }
            }
            _ => continue,
        };
        folded.insert(node.outputs[0], tensor);
        order.push(node.outputs[0]);
        removed.insert(i);
    }
    ensure!(
        !folded.is_empty(),
        "nothing to fold: no DequantizeLinear of initialisers"
    );

    // What the remaining graph still reads.
    let mut consumed: HashSet<&str> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !removed.contains(i))
        .flat_map(|(_, n)| n.inputs.iter().copied())
        .collect();
    let produced: HashSet<&str> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !removed.contains(i))
        .flat_map(|(_, n)| n.outputs.iter().copied())
        .collect();
    for (n, v) in &graph {
        if let (GRAPH_OUTPUT, Value::Bytes(b)) = (*n, v) {
            if let Some(name) = protobuf::string(&protobuf::parse(b)?, VALUE_INFO_NAME) {
                consumed.insert(name);
            }
        }
    }
    let emitted: Vec<(&str, Vec<u8>)> = order
        .iter()
        .filter(|name| consumed.contains(*name))
        .map(|name| (*name, float_initializer(name, &folded[name])))
        .collect();
    let constants: HashSet<&str> = initializers
        .keys()
        .copied()
        .filter(|name| consumed.contains(name))
        .chain(emitted.iter().map(|(name, _)| *name))
        .collect();

    let mut out: Vec<Field<'_>> = Vec::with_capacity(graph.len());
    let mut node_index = 0;
    for (n, v) in &graph {
        let keep = match (*n, v) {
            (GRAPH_NODE, _) => {
                node_index += 1;
                !removed.contains(&(node_index - 1))
            }
            (GRAPH_INITIALIZER, Value::Bytes(b)) => {
                let fields = protobuf::parse(b)?;
                consumed.contains(protobuf::string(&fields, TENSOR_NAME).unwrap_or_default())
            }
            // A graph input that is now a constant, or that nothing reads, goes.
            (GRAPH_INPUT, Value::Bytes(b)) => {
                let name = protobuf::string(&protobuf::parse(b)?, VALUE_INFO_NAME);
                name.is_some_and(|name| consumed.contains(name) && !constants.contains(name))
            }
            // Shape annotations of tensors that no longer exist go.
            (GRAPH_VALUE_INFO, Value::Bytes(b)) => {
                let name = protobuf::string(&protobuf::parse(b)?, VALUE_INFO_NAME);
                name.is_some_and(|name| produced.contains(name) || constants.contains(name))
            }
            _ => true,
        };
        if keep {
            out.push((*n, v.clone()));
        }
    }
    out.extend(
        emitted
            .iter()
            .map(|(_, bytes)| (GRAPH_INITIALIZER, Value::Bytes(bytes.as_slice()))),
    );
    let graph_out = protobuf::write(&out);
    let model_out: Vec<Field<'_>> = model_fields
        .iter()
        .map(|(n, v)| match *n {
            MODEL_GRAPH => (*n, Value::Bytes(graph_out.as_slice())),
            _ => (*n, v.clone()),
        })
        .collect();
    Ok(protobuf::write(&model_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(dims: &[usize], values: &[f64]) -> Tensor {
        Tensor {
            dims: dims.to_vec(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn blocks_along_an_axis_use_their_own_scale_and_zero_point() {
        // Two rows of five, blocks of two along axis 1: three scales a row.
        let q = tensor(&[2, 5], &[1., 2., 3., 4., 5., -1., -2., -3., -4., -5.]);
        let s = tensor(&[2, 3], &[1., 10., 100., 2., 20., 200.]);
        let z = tensor(&[2, 3], &[0., 1., 0., 0., 0., 1.]);
        let y = dequantize(&q, &s, Some(&z), 1, 2).unwrap();
        assert_eq!(
            y.values,
            vec![1., 2., 20., 30., 500., -2., -4., -60., -80., -1200.]
        );
    }

    #[test]
    fn per_tensor_and_per_axis_scales() {
        let q = tensor(&[2, 2], &[1., 2., 3., 4.]);
        let y = dequantize(&q, &tensor(&[], &[0.5]), None, 1, 0).unwrap();
        assert_eq!(y.values, vec![0.5, 1., 1.5, 2.]);
        let y = dequantize(&q, &tensor(&[2], &[1., 10.]), None, 0, 0).unwrap();
        assert_eq!(y.values, vec![1., 2., 30., 40.]);
        let y = dequantize(&q, &tensor(&[2], &[1., 10.]), None, 1, 0).unwrap();
        assert_eq!(y.values, vec![1., 20., 3., 40.]);
        assert!(dequantize(&q, &tensor(&[3], &[1., 1., 1.]), None, 1, 0).is_err());
    }

    #[test]
    fn reshape_copies_zeros_and_infers_one_dimension() {
        assert_eq!(
            reshaped(&[32, 27], &[32., 3., 3., 3.]).unwrap(),
            vec![32, 3, 3, 3]
        );
        assert_eq!(reshaped(&[4, 6], &[0., -1.]).unwrap(), vec![4, 6]);
        assert_eq!(reshaped(&[4, 6], &[-1.]).unwrap(), vec![24]);
        assert!(reshaped(&[4, 6], &[5., 5.]).is_err());
    }

    #[test]
    fn a_file_that_is_not_a_quantised_model_is_refused() {
        assert!(fold_dequantize(b"not a model at all").is_err());
        assert!(fold_dequantize(&[]).is_err());
    }
}
