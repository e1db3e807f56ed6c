//! `capsim schema`: the JSON Schema of the scenario format (`crate::schema`) on stdout.

use super::ui::{self, Failure};

pub const AFTER_HELP: &str = "Examples:
  capsim schema > capsim.schema.json
  # then, on the first line of a scenario, for the YAML language server:
  # yaml-language-server: $schema=./capsim.schema.json
  # or, in VS Code's settings.json, for every scenario at once:
  # \"yaml.schemas\": {\"./capsim.schema.json\": [\"scenarios/*.yaml\"]}

The schema checks shapes and key names as you type; `capsim validate` checks meaning.
See docs/cli.md for the editor set-up.";

pub fn run() -> Result<(), Failure> {
    let mut bytes = serde_json::to_vec_pretty(&crate::schema::scenario_schema())
        .map_err(|e| Failure::io(format!("cannot serialise the schema: {e}")))?;
    bytes.push(b'\n');
    ui::write_stdout(&bytes)
}
