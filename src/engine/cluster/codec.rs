//! prepcost's plan codecs: Ballista's own, plus the functions whose settings are part of
//! their value ([`KeepRows`]'s removed rows), which a name alone cannot rebuild on the far side.
//! Every other function is sent by name and found in the registry of the side that decodes.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, TableReference, exec_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::engine::udf::KeepRows;

/// Writes the value of a function that carries one; writes nothing for the others.
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(keep) = udf.inner().downcast_ref::<KeepRows>() {
        keep.encode(buf);
    }
    Ok(())
}

/// The function [`encode_udf`] wrote.
fn decode_udf(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    match (name, KeepRows::decode(buf)) {
        (KeepRows::NAME, Some(keep)) => Ok(Arc::new(ScalarUDF::new_from_impl(keep))),
        _ => exec_err!("There is no UDF named \"{name}\" on this node"),
    }
}

/// Ballista's logical codec, with prepcost's functions.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

/// Ballista's physical codec, with prepcost's functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::buffer::BooleanBuffer;

    #[test]
    fn keep_rows_travels_and_other_functions_go_by_name() {
        let keep =
            ScalarUDF::new_from_impl(KeepRows::new(BooleanBuffer::from(vec![false, true, false])));
        let mut buf = Vec::new();
        encode_udf(&keep, &mut buf).unwrap();
        let decoded = decode_udf(KeepRows::NAME, &buf).unwrap();
        assert_eq!(decoded.as_ref(), &keep);

        let mut named = Vec::new();
        encode_udf(&crate::engine::udf::all()[0], &mut named).unwrap();
        assert!(named.is_empty());
        let missing = decode_udf("nfkc", &[]).unwrap_err().to_string();
        assert!(missing.contains("\"nfkc\""), "{missing}");
    }
}
