//! One small schema per construct and per rule QEMU enforces: accepted ones load,
//! rejected ones fail at the right line with a message naming the problem.

use qmp_codegen::model::{Definition, Members, TypeRef};
use qmp_codegen::{parse_str, DocMode, Loader};

/// Asserts `text` is rejected with `want` in the message, at `line`.
#[track_caller]
fn rejects(text: &str, line: u32, want: &str) {
    match parse_str("t.json", text) {
        Ok(_) => panic!("accepted, expected '{want}':\n{text}"),
        Err(e) => {
            assert!(
                e.message.contains(want),
                "expected '{want}', got:\n{e}\nfor:\n{text}"
            );
            assert_eq!(e.location.line, line, "wrong line for:\n{e}");
        }
    }
}

#[track_caller]
fn accepts(text: &str) -> qmp_codegen::Schema {
    parse_str("t.json", text).unwrap_or_else(|e| panic!("{e}\nfor:\n{text}"))
}

const E: &str = "{ 'enum': 'Kind', 'data': [ 'one', 'two' ] }\n";

#[test]
fn every_definition_kind_is_accepted() {
    let s = accepts(
        "{ 'pragma': { 'member-name-exceptions': [ 'Odd' ] } }
         { 'enum': 'Kind', 'data': [ 'one', { 'name': 'two', 'if': 'CONFIG_TWO' }, '2x' ],
           'prefix': 'K', 'features': [ 'plain' ] }
         { 'enum': 'Odd', 'data': [ 'UPPER_case', 'a', 'A' ] }
         { 'struct': 'Base', 'data': { 'kind': 'Kind', '*opt': 'str' } }
         { 'struct': 'Sub', 'base': 'Base', 'data': { 'list': [ 'int8' ], 'type': 'size',
           'long': { 'type': 'any', 'if': { 'all': [ 'A', { 'not': 'B' } ] },
                     'features': [ 'deprecated' ] } } }
         { 'struct': 'Node', 'data': { 'next': 'Node', '*kids': [ 'Node' ] } }
         { 'union': 'Un', 'base': 'Base', 'discriminator': 'kind',
           'data': { 'one': 'Node', 'two': { 'type': 'Leaf', 'if': 'CONFIG_TWO' } } }
         { 'struct': 'Leaf', 'data': { 'x': 'int' } }
         { 'union': 'Inline', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind', 'data': {} }
         { 'alternate': 'Alt', 'data': { 's': 'str', 'n': 'null', 'o': 'Base', 'l': [ 'int' ] } }
         { 'alternate': 'Scalars', 'data': { 'k': 'Odd', 'b': 'bool', 'i': 'int' } }
         { 'command': 'do-it', 'data': { 'x': 'Alt' }, 'returns': [ 'Base' ],
           'allow-oob': true, 'allow-preconfig': true, 'features': [ 'unstable' ] }
         { 'command': 'boxed-cmd', 'data': 'Un', 'boxed': true, 'gen': false,
           'success-response': false, 'coroutine': true }
         { 'command': 'x-exp' }
         { 'event': 'HAPPENED', 'data': { '*detail': 'str' } }
         { 'event': 'BOXED_EV', 'data': 'Un', 'boxed': true }
         { 'struct': '__org.example_Thing', 'data': { '__org.example_member': 'str' } }",
    );
    assert_eq!(s.commands().count(), 3);
    assert_eq!(s.events().count(), 2);
    let Some(Definition::Struct(sub)) = s.get("Sub") else {
        panic!()
    };
    assert_eq!(sub.members[0].ty, TypeRef::Array("int8".into()));
    assert!(sub.members[2].cond.is_some());
    let Some(Definition::Union(u)) = s.get("Inline") else {
        panic!()
    };
    assert!(matches!(u.base, Some(Members::Inline(_))));
    let Some(Definition::Command(c)) = s.get("boxed-cmd") else {
        panic!()
    };
    assert!(c.boxed && !c.gen && !c.success_response && c.coroutine);
}

#[test]
fn definition_rules() {
    rejects(
        "{ 'enum': 'A', 'struct': 'B', 'data': [] }",
        1,
        "exactly one key",
    );
    rejects("{ 'data': [] }", 1, "exactly one key");
    rejects(
        "{ 'enum': [ 'x' ], 'data': [] }",
        1,
        "requires a string name",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [], 'bogus': 'x' }",
        1,
        "unknown key 'bogus'",
    );
    rejects("{ 'struct': 'Thing' }", 1, "misses key 'data'");
    rejects(
        "{ 'union': 'Un', 'data': {} }",
        1,
        "misses keys 'base', 'discriminator'",
    );
    rejects(
        "\n\n{ 'struct': 'Thing', 'data': {} }\n{ 'enum': 'Thing', 'data': [] }",
        4,
        "already defined",
    );
    rejects("{ 'enum': 'QType', 'data': [] }", 1, "already defined");
    rejects(
        "{ 'command': 'int' }",
        1,
        "built-in type 'int' is already defined",
    );
    rejects(
        "{ 'struct': 'ThingList', 'data': {} }",
        1,
        "should not end in 'List'",
    );
}

#[test]
fn name_rules() {
    rejects("{ 'enum': 'lowercase', 'data': [] }", 1, "CamelCase");
    rejects("{ 'enum': 'QMP', 'data': [] }", 1, "CamelCase");
    rejects("{ 'enum': 'Has_Underscore', 'data': [] }", 1, "CamelCase");
    rejects("{ 'command': 'Upper' }", 1, "must not use uppercase");
    rejects(
        "{ 'command': 'with_underscore' }",
        1,
        "must not use uppercase or '_'",
    );
    accepts("{ 'pragma': { 'command-name-exceptions': [ 'with_underscore' ] } }\n{ 'command': 'with_underscore' }");
    rejects("{ 'event': 'lower' }", 1, "must not use lowercase");
    rejects("{ 'event': 'DASH-ED' }", 1, "must not use lowercase or '-'");
    rejects("{ 'command': 'q-reserved' }", 1, "invalid name");
    rejects("{ 'command': '1st' }", 1, "invalid name");
    rejects(
        "{ 'struct': 'Thing', 'data': { '_lead': 'str' } }",
        1,
        "invalid name",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'q_obj': 'str' } }",
        1,
        "invalid name",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'Upper': 'str' } }",
        1,
        "must not use uppercase",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'u': 'str' } }",
        1,
        "reserved name",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'has-x': 'str' } }",
        1,
        "reserved name",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [ 'Bad' ] }",
        1,
        "must not use uppercase",
    );
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'Up': 'str' } }",
        1,
        "must not use uppercase",
    );
    rejects(
        "{ 'command': 'c', 'features': [ 'Bad' ] }",
        1,
        "must not use uppercase",
    );
}

#[test]
fn enum_rules() {
    rejects(
        "{ 'enum': 'Kind', 'data': { 'a': 'b' } }",
        1,
        "'data' must be an array",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [], 'prefix': [] }",
        1,
        "'prefix' must be a string",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [ 'one_two' ] }",
        1,
        "must not use uppercase or '_'",
    );
    rejects("{ 'pragma': { 'member-name-exceptions': [ 'Kind' ] } }\n{ 'enum': 'Kind', 'data': [ 'one-two', 'one_two' ] }", 2, "collides");
    rejects(
        "{ 'enum': 'Kind', 'data': [ { 'name': 'x', 'bogus': 1 } ] }",
        1,
        "stray",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [ { 'name': 'x', 'bogus': 'y' } ] }",
        1,
        "unknown key",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [ [ 'x' ] ] }",
        1,
        "requires a string name",
    );
    accepts("{ 'enum': 'Empty', 'data': [] }");
}

#[test]
fn struct_rules() {
    rejects(
        "{ 'struct': 'Thing', 'data': 'Other' }",
        1,
        "should be an object",
    );
    rejects(
        &format!("{E}{{ 'struct': 'Thing', 'data': {{}}, 'base': 'Kind' }}"),
        2,
        "'base' requires a struct type",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': {}, 'base': 'int' }",
        1,
        "'base' requires a struct type",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': {}, 'base': 'Missing' }",
        1,
        "unknown type 'Missing'",
    );
    rejects("{ 'struct': 'Ping', 'data': {}, 'base': 'Pong' }\n{ 'struct': 'Pong', 'data': {}, 'base': 'Ping' }", 1, "contains itself");
    rejects("{ 'pragma': { 'member-name-exceptions': [ 'Thing' ] } }\n{ 'struct': 'Base', 'data': { 'a-b': 'str' } }\n{ 'struct': 'Thing', 'base': 'Base', 'data': { 'a_b': 'str' } }", 3, "collides with member 'a-b' of type 'Base'");
    rejects(
        "{ 'struct': 'Thing', 'data': { 'a': 'str', 'a': 'int' } }",
        1,
        "duplicate key",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'm': 'Nope' } }",
        1,
        "member 'm' uses unknown type 'Nope'",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'm': [ 'str', 'int' ] } }",
        1,
        "single type name",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'm': [ 'strList' ] } }",
        1,
        "array of array",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'm': { 'type': 'str', 'x': 'y' } } }",
        1,
        "unknown key 'x'",
    );
    rejects(
        "{ 'struct': 'Thing', 'data': { 'm': 'ThingList' } }",
        1,
        "unknown type 'ThingList'",
    );
    accepts(
        "{ 'struct': 'Thing', 'data': { 'm': 'strList', 'n': [ 'Thing' ], 'o': 'ThingList' } }",
    );
    rejects(
        "{ 'command': 'get-thing' }\n{ 'struct': 'Thing', 'data': { 'm': 'get-thing' } }",
        2,
        "unknown type 'get-thing'",
    );
}

#[test]
fn union_rules() {
    let base = format!("{E}{{ 'struct': 'Base', 'data': {{ 'kind': 'Kind', '*o': 'Kind', 's': 'str' }} }}\n{{ 'struct': 'One', 'data': {{ 'x': 'int' }} }}\n");
    let u = |rest: &str| format!("{base}{rest}");
    accepts(&u(
        "{ 'union': 'Un', 'base': 'Base', 'discriminator': 'kind', 'data': { 'one': 'One' } }",
    ));
    rejects(
        &u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 'nope', 'data': {} }"),
        4,
        "discriminator 'nope' is not a member",
    );
    rejects(
        &u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 's', 'data': {} }"),
        4,
        "must be of enum type",
    );
    rejects(
        &u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 'o', 'data': {} }"),
        4,
        "must not be optional",
    );
    rejects(&u("{ 'union': 'Un', 'base': { 'k': { 'type': 'Kind', 'if': 'X' } }, 'discriminator': 'k', 'data': {} }"), 4, "must not be conditional");
    rejects(&u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 'kind', 'data': { 'three': 'One' } }"), 4, "branch 'three' is not a value");
    rejects(
        &u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 'kind', 'data': { 'one': 'int' } }"),
        4,
        "cannot use built-in type 'int'",
    );
    rejects(&u("{ 'union': 'Un', 'base': 'Base', 'discriminator': 'kind', 'data': { 'one': [ 'One' ] } }"), 4, "'data' member 'one' should be a type name");
    rejects(&u("{ 'struct': 'Clash', 'data': { 's': 'int' } }\n{ 'union': 'Un', 'base': 'Base', 'discriminator': 'kind', 'data': { 'one': 'Clash' } }"), 5, "collides");
    rejects(
        &u("{ 'union': 'Un', 'base': 'One', 'discriminator': 'x', 'data': {} }"),
        4,
        "must be of enum type",
    );
    rejects(&u("{ 'union': 'Vee', 'base': 'Base', 'discriminator': 'kind', 'data': {} }\n{ 'union': 'Un', 'base': 'Vee', 'discriminator': 'kind', 'data': {} }"), 5, "'base' requires a struct type");
    rejects("{ 'enum': 'Nothing', 'data': [] }\n{ 'union': 'Un', 'base': { 'k': 'Nothing' }, 'discriminator': 'k', 'data': {} }", 2, "union has no branches");
    rejects(
        &u("{ 'union': 'Un', 'base': 'Base', 'discriminator': [ 'kind' ], 'data': {} }"),
        4,
        "string name",
    );
    // The discriminator may sit in the base's base.
    accepts(&u("{ 'struct': 'Mid', 'base': 'Base', 'data': {} }\n{ 'union': 'Un', 'base': 'Mid', 'discriminator': 'kind', 'data': { 'one': 'One' } }"));
}

#[test]
fn alternate_rules() {
    rejects("{ 'alternate': 'Alt', 'data': {} }", 1, "must not be empty");
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': 'str', 'b': 'int' } }",
        1,
        "can't be distinguished",
    );
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': 'int', 'b': 'number' } }",
        1,
        "can't be distinguished",
    );
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': 'any' } }",
        1,
        "cannot use built-in type 'any'",
    );
    rejects("{ 'alternate': 'Inner', 'data': { 'a': 'str' } }\n{ 'alternate': 'Alt', 'data': { 'a': 'Inner' } }", 2, "cannot use alternate type");
    rejects("{ 'enum': 'Sw', 'data': [ 'on', 'off' ] }\n{ 'alternate': 'Alt', 'data': { 'e': 'Sw', 'b': 'bool' } }", 2, "can't be distinguished");
    rejects("{ 'enum': 'Num', 'data': [ '1x' ] }\n{ 'alternate': 'Alt', 'data': { 'e': 'Num', 'n': 'int' } }", 2, "can't be distinguished");
    // An enum whose values look like both booleans and numbers, in any order, is one
    // branch: QEMU collects the kinds it conflicts with in a set.
    accepts("{ 'enum': 'Mix', 'data': [ 'on', '1', 'off', '2' ] }\n{ 'struct': 'Ss', 'data': {} }\n{ 'alternate': 'Alt', 'data': { 'e': 'Mix', 's': 'Ss' } }");
    rejects("{ 'enum': 'Mix', 'data': [ 'on', '1', 'off' ] }\n{ 'alternate': 'Alt', 'data': { 'e': 'Mix', 'n': 'number' } }", 2, "branch 'n' can't be distinguished from 'e'");
    rejects("{ 'struct': 'Aa', 'data': {} }\n{ 'struct': 'Bb', 'data': {} }\n{ 'alternate': 'Alt', 'data': { 'a': 'Aa', 'b': 'Bb' } }", 3, "can't be distinguished");
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': [ 'int' ], 'b': [ 'str' ] } }",
        1,
        "can't be distinguished",
    );
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': 'str' }, 'base': 'X' }",
        1,
        "unknown key 'base'",
    );
    rejects(
        "{ 'alternate': 'Alt', 'data': { 'a': { 'type': 'str', 'features': [ 'f' ] } } }",
        1,
        "unknown key 'features'",
    );
    accepts("{ 'enum': 'Word', 'data': [ 'w' ] }\n{ 'alternate': 'Alt', 'data': { 'e': 'Word', 'n': 'int', 'b': 'bool' } }");
}

#[test]
fn command_and_event_rules() {
    let base = "{ 'struct': 'Args', 'data': { 'a': 'str' } }\n{ 'union': 'Un', 'base': { 'k': 'Kind' }, 'discriminator': 'k', 'data': {} }\n{ 'enum': 'Kind', 'data': [ 'x' ] }\n{ 'alternate': 'Alt', 'data': { 's': 'str' } }\n";
    let c = |rest: &str| format!("{base}{rest}");
    accepts(&c("{ 'command': 'c', 'data': 'Args', 'returns': 'Args' }"));
    rejects(
        &c("{ 'command': 'c', 'data': 'Un' }"),
        5,
        "only with 'boxed': true",
    );
    rejects(
        &c("{ 'command': 'c', 'data': 'Alt', 'boxed': true }"),
        5,
        "cannot take alternate type",
    );
    rejects(
        &c("{ 'command': 'c', 'data': 'int' }"),
        5,
        "cannot take built-in type 'int'",
    );
    rejects(
        &c("{ 'command': 'c', 'boxed': true }"),
        5,
        "'boxed': true requires 'data'",
    );
    rejects(
        &c("{ 'command': 'c', 'data': { 'a': 'str' }, 'boxed': true }"),
        5,
        "should be a type name",
    );
    rejects(
        &c("{ 'command': 'c', 'data': { 'a': { 'type': 'str', 'if': 'X' } } }"),
        5,
        "require 'boxed': true",
    );
    rejects(
        &c("{ 'command': 'c', 'returns': 'str' }"),
        5,
        "'returns' cannot take built-in type 'str'",
    );
    rejects(
        &c("{ 'command': 'c', 'returns': [ 'Kind' ] }"),
        5,
        "cannot take",
    );
    accepts(&c("{ 'pragma': { 'command-returns-exceptions': [ 'c' ] } }\n{ 'command': 'c', 'returns': 'int' }"));
    rejects(
        &c("{ 'command': 'c', 'returns': 'Nope' }"),
        5,
        "unknown type 'Nope'",
    );
    rejects(
        &c("{ 'command': 'c', 'gen': true }"),
        5,
        "may only use false value",
    );
    rejects(
        &c("{ 'command': 'c', 'boxed': false, 'data': 'Args' }"),
        5,
        "may only use true value",
    );
    rejects(
        &c("{ 'command': 'c', 'allow-oob': true, 'coroutine': true }"),
        5,
        "incompatible",
    );
    rejects(
        &c("{ 'command': 'c', 'returns': 'Args', 'bogus': true }"),
        5,
        "unknown key 'bogus'",
    );
    rejects(
        &c("{ 'event': 'EV', 'data': 'Un' }"),
        5,
        "only with 'boxed': true",
    );
    rejects(
        &c("{ 'event': 'EV', 'returns': 'Args' }"),
        5,
        "unknown key 'returns'",
    );
    accepts(&c("{ 'event': 'EV', 'data': 'Un', 'boxed': true }"));
}

#[test]
fn if_rules() {
    accepts("{ 'command': 'c', 'if': { 'any': [ 'A', { 'all': [ 'B_1', { 'not': 'C' } ] } ] } }");
    rejects(
        "{ 'command': 'c', 'if': 'defined(X)' }",
        1,
        "not a valid identifier",
    );
    rejects("{ 'command': 'c', 'if': '' }", 1, "not a valid identifier");
    rejects(
        "{ 'command': 'c', 'if': 'lower' }",
        1,
        "not a valid identifier",
    );
    rejects(
        "{ 'command': 'c', 'if': [ 'A' ] }",
        1,
        "must be a string or an object",
    );
    rejects("{ 'command': 'c', 'if': { 'all': [] } }", 1, "useless");
    rejects(
        "{ 'command': 'c', 'if': { 'all': 'A' } }",
        1,
        "must be an array",
    );
    rejects(
        "{ 'command': 'c', 'if': { 'all': [ 'A' ], 'any': [ 'B' ] } }",
        1,
        "conflicting keys",
    );
    rejects(
        "{ 'command': 'c', 'if': { 'nand': [ 'A' ] } }",
        1,
        "unknown key",
    );
    rejects("{ 'command': 'c', 'if': {} }", 1, "conflicting keys");
}

#[test]
fn feature_rules() {
    accepts("{ 'struct': 'Thing', 'data': { 'm': { 'type': 'str', 'features': [ 'deprecated', { 'name': 'f', 'if': 'X' } ] } }, 'features': [ 'plain' ] }");
    rejects(
        "{ 'struct': 'Thing', 'data': {}, 'features': [ 'deprecated' ] }",
        1,
        "not supported for types",
    );
    rejects(
        "{ 'enum': 'Kind', 'data': [], 'features': [ 'unstable' ] }",
        1,
        "not supported for types",
    );
    rejects(
        "{ 'command': 'c', 'features': 'deprecated' }",
        1,
        "must be an array",
    );
    rejects(
        "{ 'command': 'c', 'features': [ 'f', 'f' ] }",
        1,
        "collides",
    );
    rejects(
        "{ 'command': 'c', 'features': [ { 'name': 'f', 'x': 'y' } ] }",
        1,
        "unknown key",
    );
    let many: Vec<String> = (0..63).map(|i| format!("'f{i}'")).collect();
    rejects(
        &format!("{{ 'command': 'c', 'features': [ {} ] }}", many.join(", ")),
        1,
        "Maximum of 64 schema features is permitted",
    );
    let fine: Vec<String> = (0..62).map(|i| format!("'f{i}'")).collect();
    accepts(&format!(
        "{{ 'command': 'c', 'features': [ {} ] }}",
        fine.join(", ")
    ));
}

#[test]
fn doc_rules_apply_by_default() {
    let strict = |t: &str| parse_str("d.json", t);
    let lenient = |t: &str| Loader::new().docs(DocMode::Lenient).load_str("d.json", t);
    let undocumented = "{ 'pragma': { 'doc-required': true } }\n{ 'command': 'c' }";
    assert!(lenient(undocumented).is_ok());
    assert!(strict(undocumented)
        .unwrap_err()
        .message
        .contains("documentation comment required"));
    let wrong_symbol = "##\n# @other:\n##\n{ 'command': 'c' }";
    assert!(parse_str("d.json", wrong_symbol)
        .unwrap_err()
        .message
        .contains("documentation comment is for 'other'"));
    let missing_member =
        "##\n# @c:\n#\n# Does things.\n##\n{ 'command': 'c', 'data': { 'a': 'str' } }";
    assert!(lenient(missing_member).is_ok());
    assert!(strict(missing_member)
        .unwrap_err()
        .message
        .contains("'a' lacks documentation"));
    let bad_member = "##\n# @c:\n#\n# @zz: no such thing\n##\n{ 'command': 'c' }";
    assert!(strict(bad_member)
        .unwrap_err()
        .message
        .contains("'zz' does not exist"));
    let undoc_feature = "##\n# @c:\n#\n# Text.\n##\n{ 'command': 'c', 'features': [ 'f' ] }";
    assert!(strict(undoc_feature)
        .unwrap_err()
        .message
        .contains("feature 'f' lacks documentation"));
    let returns = "##\n# @c:\n#\n# Returns: something\n##\n{ 'command': 'c' }";
    assert!(strict(returns).unwrap_err().message.contains("Returns"));
    let old = "##\n# @c:\n#\n# Example:\n#   x\n##\n{ 'command': 'c' }";
    assert!(lenient(old).is_ok(), "7.2-style docs load leniently");
    assert!(strict(old)
        .unwrap_err()
        .message
        .contains("no longer supported"));
    let exempt = "{ 'pragma': { 'documentation-exceptions': [ 'c' ] } }\n##\n# @c:\n#\n# Text.\n##\n{ 'command': 'c', 'data': { 'a': 'str' } }";
    assert!(strict(exempt).is_ok());
    let good = "##\n# = Title\n##\n\n##\n# @Kind:\n#\n# Kinds.\n#\n# @a: the a\n#\n# Since: 1.0\n##\n{ 'enum': 'Kind', 'data': [ 'a' ] }";
    let s = strict(good).unwrap();
    assert_eq!(s.free_docs.len(), 1);
    assert_eq!(
        s.get("Kind")
            .unwrap()
            .info()
            .doc
            .as_ref()
            .unwrap()
            .since
            .as_deref(),
        Some("1.0")
    );
}

#[test]
fn errors_name_the_include_chain() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("top.json"),
        "{ 'include': 'sub/mid.json' }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sub/mid.json"),
        "# a comment\n{ 'include': '../leaf.json' }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("leaf.json"),
        "\n\n{ 'struct': 'Thing', 'data': { 'm': 'Nope' } }\n",
    )
    .unwrap();
    let e = qmp_codegen::load(dir.path().join("top.json")).unwrap_err();
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("In file included from ") && lines[0].ends_with("top.json:1:"),
        "{text}"
    );
    assert!(lines[1].ends_with("mid.json:2:"), "{text}");
    assert!(
        lines[2].ends_with("leaf.json: In struct 'Thing':"),
        "{text}"
    );
    assert!(
        lines[3].ends_with("leaf.json:3: member 'm' uses unknown type 'Nope'"),
        "{text}"
    );
}

#[test]
fn hostile_nesting_is_an_error_with_a_location() {
    // 10 000 nested objects or arrays.
    for open in ["{ 'a': ", "[ "] {
        let text = format!("{{ 'struct': 'S', 'data': {} }}", open.repeat(10_000));
        let e = parse_str("deep.json", &text).unwrap_err();
        assert_eq!(e.location.line, 1, "{e}");
        assert!(e.to_string().starts_with("deep.json:1:"), "{e}");
    }
    // 8 000 nested condition operators.
    let mut cond = String::from("'X'");
    for _ in 0..8_000 {
        cond = format!("{{ 'not': {cond} }}");
    }
    let text = format!("{{ 'command': 'c', 'if': {cond} }}");
    let e = parse_str("deep.json", &text).unwrap_err();
    assert_eq!(e.location.line, 1, "{e}");
    // Within the limit, deep conditions are fine.
    let mut cond = String::from("'X'");
    for _ in 0..100 {
        cond = format!("{{ 'not': {cond} }}");
    }
    accepts(&format!("{{ 'command': 'c', 'if': {cond} }}"));
}

#[test]
fn a_struct_based_on_a_union_that_has_it_as_a_branch() {
    // Whichever comes first, the struct's base is refused, as QEMU refuses it (not
    // reported as a union containing itself).
    let union = "{ 'union': 'Uni', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
                   'data': { 'one': 'Stru' } }\n";
    let strukt = "{ 'struct': 'Stru', 'base': 'Uni', 'data': { 'x': 'int' } }\n";
    let want = "'base' requires a struct type, union type 'Uni' isn't";
    rejects(&format!("{E}{union}{strukt}"), 4, want);
    rejects(&format!("{E}{strukt}{union}"), 2, want);
}

#[test]
fn clashes_are_checked_in_every_branch_on_its_own() {
    // Two branches may share a member name; a branch member may not clash with a
    // common member.
    accepts(&format!(
        "{E}{{ 'struct': 'Aaa', 'data': {{ 'x': 'int' }} }}
         {{ 'struct': 'Bbb', 'data': {{ 'x': 'str' }} }}
         {{ 'union': 'Uni', 'base': {{ 'kind': 'Kind', 'c': 'int' }}, 'discriminator': 'kind',
           'data': {{ 'one': 'Aaa', 'two': 'Bbb' }} }}"
    ));
    rejects(
        &format!(
            "{E}{{ 'struct': 'Aaa', 'data': {{ 'x': 'int' }} }}
             {{ 'struct': 'Bbb', 'data': {{ 'c': 'str' }} }}
             {{ 'union': 'Uni', 'base': {{ 'kind': 'Kind', 'c': 'int' }}, 'discriminator': 'kind',
               'data': {{ 'one': 'Aaa', 'two': 'Bbb' }} }}"
        ),
        4,
        "collides with",
    );
}

/// `Loader::check` finds exactly what `Loader::load` finds: the same definitions, or
/// the same error (it only skips building the resolved model, which cannot fail).
#[test]
fn check_agrees_with_load() {
    let cases = [
        "{ 'enum': 'Mode', 'data': [ 'fast', 'safe' ] }\n\
         { 'struct': 'Opts', 'data': { 'mode': 'Mode', '*list': ['Mode'] } }\n\
         { 'command': 'set-mode', 'data': { 'mode': 'Mode' }, 'returns': ['Opts'] }\n\
         { 'event': 'MODE_CHANGED', 'data': 'Opts' }\n",
        "{ 'struct': 'A', 'data': { 'x': 'Nope' } }\n",
        "{ 'struct': 'A', 'base': 'A', 'data': {} }\n",
        "{ 'enum': 'E', 'data': [ 'a' ] }\n{ 'enum': 'E', 'data': [ 'b' ] }\n",
        "{ 'union': 'U', 'base': { 'k': 'E' }, 'discriminator': 'k', 'data': { 'z': 'S' } }\n\
         { 'enum': 'E', 'data': [ 'a' ] }\n{ 'struct': 'S', 'data': {} }\n",
        "{ 'command': 'c', 'data': { 'a-b': 'int', 'a_b': 'str' } }\n",
    ];
    for text in cases {
        let loaded = Loader::new().load_str("t.json", text);
        let checked = Loader::new().check_str("t.json", text);
        match (loaded, checked) {
            (Ok(s), Ok(c)) => {
                assert_eq!(c.definitions.len(), s.definitions.len());
                assert_eq!(c.commands(), s.commands().count());
                assert_eq!(c.events(), s.events().count());
                assert_eq!(c.types(), s.types().count());
                assert_eq!((c.dialect, &c.qemu_version), (s.dialect, &s.qemu_version));
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            (a, b) => panic!("{text}: load {:?}, check {:?}", a.is_ok(), b.is_ok()),
        }
    }
}
