//! Every document the portal sends must be valid against monday's published schema.

use apollo_compiler::ExecutableDocument;
use monday::queries;
use monday_local::schema::schema;

fn monday_schema() -> &'static apollo_compiler::validation::Valid<apollo_compiler::Schema> {
    schema()
}

#[test]
fn every_document_the_client_sends_is_valid_against_mondays_schema() {
    let schema = monday_schema();
    assert!(queries::ALL.len() >= 10);
    for (name, document) in queries::ALL {
        if let Err(errors) = ExecutableDocument::parse_and_validate(schema, *document, *name) {
            panic!("{name} is not valid against monday's schema:\n{errors}");
        }
    }
}

#[test]
fn the_validation_catches_a_field_monday_lacks() {
    let schema = monday_schema();
    let wrong = queries::ITEM_BY_ID.replace("updated_at", "updated_at\n  priority_score");
    let errors = ExecutableDocument::parse_and_validate(schema, wrong, "Wrong")
        .expect_err("monday's Item has no priority_score");
    assert!(errors.to_string().contains("priority_score"), "{errors}");

    let wrong_argument = queries::ITEMS_NEXT_PAGE.replace("cursor: $cursor", "after: $cursor");
    assert!(ExecutableDocument::parse_and_validate(schema, wrong_argument, "Wrong").is_err());
}
