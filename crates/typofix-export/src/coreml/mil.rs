//! A builder for one MIL function: typed variables, constants (small ones
//! inline, large ones as blobs in `weight.bin`) and operations, in the
//! encoding coremltools emits (`../shared/docs/coreml-format.md` §3.3):
//! every parameter of a compute op is bound by name to a `const` op, and
//! every output carries its full type.

use std::collections::BTreeMap;

use half::f16;

use super::blob::{BlobType, BlobWriter};
use super::proto::{
    self, binding, tensor_value, value, Argument, Binding, BlobFileValue, Block, DataType,
    Dimension, Function, ImmediateValue, NamedValueType, Operation, TensorType, TensorValue,
    ValueType,
};

/// Where blob references point, relative to the directory of `model.mlmodel`.
pub const WEIGHTS_REF: &str = "@model_path/weights/weight.bin";

/// coremltools' policy: float constants of at least this many elements go
/// to `weight.bin`, smaller ones inline.
const BLOB_MIN_ELEMENTS: usize = 10;

/// A typed variable of the program.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub name: String,
    pub dtype: DataType,
    pub shape: Vec<usize>,
}

pub fn tensor_type(dtype: DataType, shape: &[usize]) -> ValueType {
    ValueType {
        tensor_type: Some(TensorType {
            data_type: dtype as i32,
            rank: shape.len() as i64,
            dimensions: shape
                .iter()
                .map(|&size| Dimension {
                    constant: Some(proto::ConstantDimension { size: size as u64 }),
                })
                .collect(),
        }),
    }
}

fn named(var: &Var) -> NamedValueType {
    NamedValueType {
        name: var.name.clone(),
        r#type: Some(tensor_type(var.dtype, &var.shape)),
    }
}

fn immediate(dtype: DataType, shape: &[usize], payload: tensor_value::Value) -> proto::Value {
    proto::Value {
        doc_string: String::new(),
        r#type: Some(tensor_type(dtype, shape)),
        value: Some(value::Value::ImmediateValue(ImmediateValue {
            tensor: Some(TensorValue {
                value: Some(payload),
            }),
        })),
    }
}

fn string_value(s: &str) -> proto::Value {
    immediate(
        DataType::String,
        &[],
        tensor_value::Value::Strings(tensor_value::RepeatedStrings {
            values: vec![s.to_string()],
        }),
    )
}

/// Float data as stored for `dtype`: fp16 rounds to nearest even, as
/// numpy's `astype(float16)` does.
fn float_bytes(dtype: DataType, data: &[f32]) -> Vec<u8> {
    match dtype {
        DataType::Float16 => data
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect(),
        _ => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// One function under construction.
#[derive(Debug, Default)]
pub struct FunctionBuilder {
    operations: Vec<Operation>,
    blobs: BlobWriter,
    counter: usize,
}

/// A compute op's parameter: one variable, or several for variadic ones.
pub enum Param<'a> {
    One(&'a Var),
    Many(Vec<&'a Var>),
}

impl FunctionBuilder {
    pub fn new() -> FunctionBuilder {
        FunctionBuilder::default()
    }

    /// A fresh SSA name from a readable hint.
    fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("{hint}_{}", self.counter)
    }

    fn push_const(
        &mut self,
        hint: &str,
        dtype: DataType,
        shape: &[usize],
        val: proto::Value,
    ) -> Var {
        let var = Var {
            name: self.fresh(hint),
            dtype,
            shape: shape.to_vec(),
        };
        self.operations.push(Operation {
            r#type: "const".into(),
            inputs: BTreeMap::new(),
            outputs: vec![named(&var)],
            attributes: BTreeMap::from([
                ("name".to_string(), string_value(&var.name)),
                ("val".to_string(), val),
            ]),
        });
        var
    }

    /// A float tensor in `dtype` (fp16 or fp32), C order.
    pub fn floats(&mut self, hint: &str, dtype: DataType, shape: &[usize], data: &[f32]) -> Var {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let bytes = float_bytes(dtype, data);
        let val = if data.len() >= BLOB_MIN_ELEMENTS {
            let kind = match dtype {
                DataType::Float16 => BlobType::Float16,
                _ => BlobType::Float32,
            };
            proto::Value {
                doc_string: String::new(),
                r#type: Some(tensor_type(dtype, shape)),
                value: Some(value::Value::BlobFileValue(BlobFileValue {
                    file_name: WEIGHTS_REF.into(),
                    offset: self.blobs.append(kind, &bytes),
                })),
            }
        } else if dtype == DataType::Float16 {
            immediate(
                dtype,
                shape,
                tensor_value::Value::Bytes(tensor_value::RepeatedBytes { values: bytes }),
            )
        } else {
            immediate(
                dtype,
                shape,
                tensor_value::Value::Floats(tensor_value::RepeatedFloats {
                    values: data.to_vec(),
                }),
            )
        };
        self.push_const(hint, dtype, shape, val)
    }

    pub fn scalar(&mut self, hint: &str, dtype: DataType, v: f32) -> Var {
        self.floats(hint, dtype, &[], &[v])
    }

    /// An int32 scalar (`shape` empty) or vector.
    pub fn ints(&mut self, hint: &str, shape: &[usize], values: &[i32]) -> Var {
        let val = immediate(
            DataType::Int32,
            shape,
            tensor_value::Value::Ints(tensor_value::RepeatedInts {
                values: values.to_vec(),
            }),
        );
        self.push_const(hint, DataType::Int32, shape, val)
    }

    pub fn int(&mut self, hint: &str, v: i32) -> Var {
        self.ints(hint, &[], &[v])
    }

    pub fn int_vec(&mut self, hint: &str, values: &[i32]) -> Var {
        self.ints(hint, &[values.len()], values)
    }

    pub fn boolean(&mut self, hint: &str, v: bool) -> Var {
        let val = immediate(
            DataType::Bool,
            &[],
            tensor_value::Value::Bools(tensor_value::RepeatedBools { values: vec![v] }),
        );
        self.push_const(hint, DataType::Bool, &[], val)
    }

    pub fn string(&mut self, hint: &str, s: &str) -> Var {
        self.push_const(hint, DataType::String, &[], string_value(s))
    }

    /// A compute op with typed outputs; returns them.
    pub fn op(
        &mut self,
        op_type: &str,
        hint: &str,
        params: Vec<(&str, Param)>,
        outputs: &[(DataType, Vec<usize>)],
    ) -> Vec<Var> {
        let base = self.fresh(hint);
        let outs: Vec<Var> = outputs
            .iter()
            .enumerate()
            .map(|(i, (dtype, shape))| Var {
                name: if outputs.len() == 1 {
                    base.clone()
                } else {
                    format!("{base}_{i}")
                },
                dtype: *dtype,
                shape: shape.clone(),
            })
            .collect();
        self.push_op(op_type, &base, params, outs)
    }

    /// A compute op with one output named `name` exactly (a function
    /// output, say).
    pub fn named_op(
        &mut self,
        op_type: &str,
        name: &str,
        params: Vec<(&str, Param)>,
        dtype: DataType,
        shape: Vec<usize>,
    ) -> Var {
        let out = Var {
            name: name.to_string(),
            dtype,
            shape,
        };
        self.push_op(op_type, name, params, vec![out]).remove(0)
    }

    /// A compute op with one output of `dtype` and `shape`.
    pub fn op1(
        &mut self,
        op_type: &str,
        hint: &str,
        params: Vec<(&str, Param)>,
        dtype: DataType,
        shape: Vec<usize>,
    ) -> Var {
        self.op(op_type, hint, params, &[(dtype, shape)]).remove(0)
    }

    fn push_op(
        &mut self,
        op_type: &str,
        name: &str,
        params: Vec<(&str, Param)>,
        outs: Vec<Var>,
    ) -> Vec<Var> {
        let bind = |v: &Var| Binding {
            binding: Some(binding::Binding::Name(v.name.clone())),
        };
        let inputs = params
            .into_iter()
            .map(|(param, p)| {
                let arguments = match p {
                    Param::One(v) => vec![bind(v)],
                    Param::Many(vs) => vs.into_iter().map(bind).collect(),
                };
                (param.to_string(), Argument { arguments })
            })
            .collect();
        self.operations.push(Operation {
            r#type: op_type.into(),
            inputs,
            outputs: outs.iter().map(named).collect(),
            attributes: BTreeMap::from([("name".to_string(), string_value(name))]),
        });
        outs
    }

    /// Counts of each op type, for reports.
    pub fn op_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for op in &self.operations {
            *counts.entry(op.r#type.clone()).or_default() += 1;
        }
        counts
    }

    /// The function (one block for `opset`) and the `weight.bin` bytes.
    pub fn finish(self, inputs: &[Var], outputs: &[Var], opset: &str) -> (Function, Vec<u8>) {
        let block = Block {
            inputs: Vec::new(),
            outputs: outputs.iter().map(|v| v.name.clone()).collect(),
            operations: self.operations,
            attributes: BTreeMap::new(),
        };
        let function = Function {
            inputs: inputs.iter().map(named).collect(),
            opset: opset.into(),
            block_specializations: BTreeMap::from([(opset.to_string(), block)]),
            attributes: BTreeMap::new(),
        };
        (function, self.blobs.into_bytes())
    }
}
