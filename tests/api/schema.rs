//! The schema snapshot: `schema.graphql` is exactly what `moments schema` prints.

#[test]
fn schema_graphql_is_what_moments_schema_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let served = moments::sdl();
    assert!(
        committed == served,
        "schema.graphql differs from the served schema; update it with:\n\n    cargo run -- schema > schema.graphql\n"
    );
}

/// The SDL without descriptions, each definition on one line, for looking up signatures.
fn compact(sdl: &str) -> String {
    let mut out = String::new();
    let mut in_description = false;
    for line in sdl.lines() {
        let trimmed = line.trim();
        let quotes = trimmed.matches("\"\"\"").count();
        if in_description || quotes > 0 {
            if quotes % 2 == 1 {
                in_description = !in_description;
            }
            continue;
        }
        out.push_str(trimmed);
        out.push(' ');
    }
    out.replace("( ", "(").replace(" )", ")")
}

#[test]
fn the_schema_has_the_names_the_spec_fixes() {
    let sdl = compact(&moments::sdl());
    for needle in [
        "interface Node",
        "type Query",
        "node(id: ID!): Node",
        "viewer: User!",
        "user(handle: String!): User",
        "profile(handle: String!): Profile",
        "moment(id: ID!): Moment",
        "feed(first: Int = 20, after: String): MomentConnection!",
        "timeline(first: Int = 20, after: String, excludePinned: Boolean = false): MomentConnection!",
        "pinned(first: Int = 100, after: String): [Moment!]!",
        "pinnedConnection(first: Int = 20, after: String): MomentConnection!",
        "pinLimit: Int",
        "settings: MomentsSettings",
        "enum PinBlocker",
        "viewerCannotPinReasons: [PinBlocker!]!",
        "pinnedAt: DateTime",
        "audience: Audience",
        "scalar DateTime",
        "signUp(input: SignUpInput!): AuthPayload!",
        "pin(momentId: ID!): PinPayload!",
        "unpin(momentId: ID!): UnpinPayload!",
        "updateMomentsSettings(input: MomentsSettingsInput!): MomentsSettings!",
    ] {
        assert!(sdl.contains(needle), "the schema lacks {needle:?}");
    }
}
