//! Every schema stays BACKWARD compatible with its earlier published versions (kept in
//! `avro-history/`): a consumer on the new schema reads every record already on the topics.

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::Schema;
use schemas::event_schema;

#[test]
fn current_schemas_read_what_earlier_versions_wrote() {
    let history = concat!(env!("CARGO_MANIFEST_DIR"), "/avro-history");
    let mut checked = 0;
    for entry in std::fs::read_dir(history).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // agenthub.events.<EventType>.v<N>.avsc
        let event_type = name
            .trim_start_matches("agenthub.events.")
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        let old = Schema::parse_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let current = event_schema(&event_type).unwrap().schema();
        SchemaCompatibility::can_read(&old, current)
            .unwrap_or_else(|e| panic!("{event_type}: the current schema cannot read {name}: {e}"));
        checked += 1;
    }
    assert!(checked >= 1, "the history holds the published versions");
}
