//! The REST API's published document and its handlers agree, both ways: every request the
//! document allows is accepted, and every request it forbids is refused with 422. The cases are
//! generated from the document's own constraints (lengths, patterns, enums, required and
//! nullable fields), so a constraint added to one side and not the other fails here.

use serde_json::{Map, Value, json};

use crate::helpers::{NO_WRITE_LIMITS, browser, spawn_app_with};

/// Resolves `{"$ref": "#/components/schemas/X"}` against the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Whether `value` is valid under `schema`: the part of JSON Schema the document uses.
fn allows(doc: &Value, schema: &Value, value: &Value) -> bool {
    let schema = resolve(doc, schema);
    if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
        return choices.iter().filter(|s| allows(doc, s, value)).count() == 1;
    }
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("null") => value.is_null(),
        Some("string") => value.is_string(),
        Some("object") => value.is_object(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some(other) => panic!("the validator does not know type {other}"),
        None => true,
    };
    if !type_ok {
        return false;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return false;
    }
    if let Some(text) = value.as_str() {
        let chars = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| chars < min)
            || schema["maxLength"].as_u64().is_some_and(|max| chars > max)
        {
            return false;
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            let pattern = regex::Regex::new(pattern).expect("the document's pattern compiles");
            if !pattern.is_match(text) {
                return false;
            }
        }
    }
    if let Some(object) = value.as_object() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if required.iter().any(|name| !object.contains_key(*name)) {
            return false;
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(field) = object.get(name)
                && !allows(doc, property, field)
            {
                return false;
            }
        }
    }
    true
}

/// Values on both sides of every constraint of a string property, plus the ones its type and
/// nullability decide.
fn edge_values(doc: &Value, schema: &Value) -> Vec<Value> {
    let schema = resolve(doc, schema);
    if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
        return choices.iter().flat_map(|s| edge_values(doc, s)).collect();
    }
    let mut values = vec![json!(null), json!(7), json!(["a list"])];
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        values.extend(options.iter().cloned());
        values.push(json!("not-an-option"));
        values.push(json!(""));
    }
    if schema["type"] == "string" {
        let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
        let max = schema["maxLength"].as_u64().map(|m| m as usize);
        for length in [Some(min), min.checked_sub(1), max, max.map(|m| m + 1)]
            .into_iter()
            .flatten()
        {
            values.push(json!("x".repeat(length)));
        }
        values.extend(
            [
                " ",
                "   padded   ",
                "line one\nline two",
                "tab\tinside",
                "a\u{7f}b",
                "\u{a0}",
                "ordinary text",
            ]
            .map(|s| json!(s)),
        );
        if let Some(max) = max {
            values.push(json!(format!(" {} ", "x".repeat(max - 1))));
        }
    }
    values
}

#[tokio::test]
async fn every_request_the_document_allows_is_accepted_and_no_other() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let client = browser();
    let doc: Value = client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("JSON");
    let body_schema = doc["paths"]["/api/v1/ticket"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]
        .clone();
    let object = resolve(&doc, &body_schema).clone();
    assert!(
        object["properties"]["title"]["maxLength"].is_u64()
            && object["properties"]["priority"].is_object(),
        "the document declares the constraints: {object}"
    );

    let jwt = app.jwt_for("demo", "jordan@demo.example").await;

    // A valid body, then one property at a time through its edge values, and each property
    // missing.
    let base = json!({"title": "A valid title", "description": "Some words", "priority": "high"});
    let mut bodies: Vec<Value> = Vec::new();
    for (name, property) in object["properties"].as_object().expect("properties") {
        for value in edge_values(&doc, property) {
            let mut body = base.clone();
            body[name] = value;
            bodies.push(body);
        }
        let mut without = base.as_object().cloned().unwrap_or_else(Map::new);
        without.remove(name);
        bodies.push(Value::Object(without));
    }
    bodies.push(json!({"title": "Unknown fields are ignored", "colour": "red"}));

    // A 10,000-character case would drown a failure message.
    let shown = |body: &Value| body.to_string().chars().take(200).collect::<String>();
    let (mut accepted, mut refused) = (0, 0);
    for body in bodies {
        let expected = allows(&doc, &body_schema, &body);
        let response = client
            .post(app.url("/api/v1/ticket"))
            .bearer_auth(&jwt)
            .json(&body)
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        if expected {
            assert!(
                status == 201 || status == 202,
                "the document allows {}, the handler answered {status}",
                shown(&body)
            );
            accepted += 1;
        } else {
            assert_eq!(
                status,
                422,
                "the document forbids {}, the handler answered {status}",
                shown(&body)
            );
            refused += 1;
        }
    }
    assert!(
        accepted >= 8 && refused >= 10,
        "{accepted} allowed, {refused} forbidden"
    );
}
