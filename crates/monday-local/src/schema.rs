//! monday's GraphQL schema (API 2026-10), bundled from `schema/monday-2026-10.graphql`: the
//! local board validates every request against it, as monday does.

use std::sync::OnceLock;

use apollo_compiler::Schema;
use apollo_compiler::ast::{Definition, Document};
use apollo_compiler::validation::Valid;

/// The SDL itself, for tools that validate documents against it.
pub const SDL: &str = include_str!("../schema/monday-2026-10.graphql");

/// Definitions every GraphQL implementation provides itself. monday's published SDL spells
/// them out (an introspection dump), which the GraphQL spec and apollo-compiler reject.
fn is_built_in(definition: &Definition) -> bool {
    let name = definition.name().map(|n| n.as_str()).unwrap_or_default();
    match definition {
        Definition::ScalarTypeDefinition(_) => {
            matches!(name, "Int" | "Float" | "String" | "Boolean" | "ID")
        }
        Definition::DirectiveDefinition(_) => matches!(
            name,
            "include" | "skip" | "deprecated" | "specifiedBy" | "oneOf"
        ),
        Definition::ObjectTypeDefinition(_) | Definition::EnumTypeDefinition(_) => {
            name.starts_with("__")
        }
        _ => false,
    }
}

/// The parsed and validated schema, once per process: it is 385 KB and never changes.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut document =
            Document::parse(SDL, "monday-2026-10.graphql").expect("the bundled schema parses");
        document
            .definitions
            .retain(|definition| !is_built_in(definition));
        document
            .to_schema_validate()
            .expect("the bundled monday schema is valid")
    })
}
