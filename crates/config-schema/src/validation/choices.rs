//! The choices a validation file offers (`row_validation_mode`). The validated levels keep
//! them as they are, so both `raw` and `model` use these types; this module depends on neither.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Granularity of row validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RowValidationMode {
    Row,
    Cell,
}
