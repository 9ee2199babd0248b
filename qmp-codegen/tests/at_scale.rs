//! Schemas that are large or nested on purpose: each is checked in time that grows
//! with its size (the quadratic and exponential ones are refused with an error), and
//! none overflows the stack. Their times are measured by
//! `cargo bench -p qmp-codegen --bench stages`; here, that they finish, and how.

use qmp_codegen::{parse_str, Schema, SchemaError};

fn load(text: &str) -> Result<Schema, SchemaError> {
    parse_str("t.json", text)
}

#[track_caller]
fn refused(text: &str, want: &str) -> SchemaError {
    match load(text) {
        Ok(_) => panic!("accepted, expected '{want}'"),
        Err(e) => {
            assert!(e.message.contains(want), "expected '{want}', got:\n{e}");
            e
        }
    }
}

fn list(n: usize, item: impl Fn(usize) -> String) -> String {
    (0..n).map(item).collect::<Vec<_>>().join(", ")
}

#[test]
fn a_union_of_30000_branches() {
    let n = 30_000;
    let text = format!(
        "{{ 'enum': 'Kind', 'data': [ {} ] }}\n\
         {{ 'struct': 'Arm', 'data': {{ 'x': 'int' }} }}\n\
         {{ 'union': 'Big', 'base': {{ 'kind': 'Kind' }}, 'discriminator': 'kind', \
            'data': {{ {} }} }}\n",
        list(n, |i| format!("'v{i}'")),
        // Every other value has a branch; the rest get the empty type.
        list(n / 2, |i| format!("'v{}': 'Arm'", 2 * i)),
    );
    let s = load(&text).expect("valid");
    let big = s.resolved.type_named("Big").expect("defined");
    let qmp_codegen::resolved::TypeKind::Object(o) = &big.kind else {
        panic!("an object")
    };
    let variants = &o.branches.as_ref().expect("a union").variants;
    assert_eq!(variants.len(), n);
    assert_eq!(variants.iter().filter(|v| v.implicit).count(), n / 2);

    // A branch that is not a value is still found, at the end.
    let bad = text.replace("'v29998': 'Arm'", "'w29998': 'Arm'");
    refused(&bad, "branch 'w29998' is not a value of enum type 'Kind'");
}

#[test]
fn a_doc_comment_describing_30000_members() {
    let n = 30_000;
    let mut text = String::from("##\n# @Wide:\n#\n");
    for i in 0..n {
        text.push_str(&format!("# @m{i}: member {i}\n#\n"));
    }
    text.push_str("# Since: 1.0\n##\n");
    text.push_str(&format!(
        "{{ 'struct': 'Wide', 'data': {{ {} }} }}\n",
        list(n, |i| format!("'m{i}': 'int'"))
    ));
    load(&text).expect("valid");

    // The last description duplicated: found, at its line.
    let dup = text.replace("# @m29999: member", "# @m29998: member");
    let e = refused(&dup, "'m29998' parameter name duplicated");
    assert_eq!(e.location.line, 4 + 2 * 29_999);
    // The last member undocumented.
    let undoc = text.replace("# @m29999: member 29999\n#\n", "");
    refused(&undoc, "member 'm29999' lacks documentation");
}

/// `Chain0` <- `Chain1` <- ..., each defined before or after its base.
fn chain(n: usize, backwards: bool) -> String {
    let def = |i: usize| {
        if i == 0 {
            "{ 'struct': 'Chain0', 'data': { 'm0': 'int' } }\n".to_owned()
        } else {
            format!(
                "{{ 'struct': 'Chain{i}', 'base': 'Chain{}', 'data': {{ 'm{i}': 'int' }} }}\n",
                i - 1
            )
        }
    };
    if backwards {
        (0..n).rev().map(def).collect()
    } else {
        (0..n).map(def).collect()
    }
}

#[test]
fn a_chain_of_bases_defined_backwards_is_an_error_not_a_stack_overflow() {
    // Each struct's base is checked before it: 20 000 checks would nest.
    let e = refused(
        &chain(20_000, true),
        "is nested too deep: more than 400 levels",
    );
    assert!(e.message.starts_with("struct type 'Chain"), "{e}");
    // A chain within the limit is fine either way.
    let s = load(&chain(300, true)).expect("valid");
    let last = s.resolved.type_named("Chain299").expect("defined");
    let qmp_codegen::resolved::TypeKind::Object(o) = &last.kind else {
        panic!("an object")
    };
    assert_eq!(o.members.len(), 300);
}

#[test]
fn a_chain_of_bases_too_long_to_flatten_is_refused() {
    // 1 000 levels flatten to half a million inherited members: fine.
    load(&chain(1_000, false)).expect("valid");
    // 3 000 levels to four and a half million: QEMU's generator would hold them all;
    // refused once a million have been copied.
    let e = refused(&chain(3_000, false), "makes the schema too large to check");
    assert!(e.message.contains("inherited from bases"), "{e}");
}

#[test]
fn unions_of_unions_are_refused_before_their_checks_explode() {
    // Each union has two branches of the one before: checking clashes through every
    // path would visit 2^40 objects.
    let mut text = String::from(
        "{ 'enum': 'Two', 'data': [ 'a', 'b' ] }\n\
         { 'struct': 'Leaf', 'data': { 'x': 'int' } }\n",
    );
    let mut prev = "Leaf".to_owned();
    for i in 1..40 {
        text.push_str(&format!(
            "{{ 'struct': 'Base{i}', 'data': {{ 'k{i}': 'Two' }} }}\n\
             {{ 'union': 'Nest{i}', 'base': 'Base{i}', 'discriminator': 'k{i}', \
                'data': {{ 'a': '{prev}', 'b': '{prev}' }} }}\n"
        ));
        prev = format!("Nest{i}");
    }
    let e = refused(&text, "makes the schema too large to check");
    assert!(e.message.starts_with("union type 'Nest"), "{e}");
    // Ten levels (a thousand paths) are checked.
    let ten: String = text
        .lines()
        .take(2 + 2 * 10)
        .map(|l| format!("{l}\n"))
        .collect();
    load(&ten).expect("valid");
}

#[test]
fn unions_nested_through_branches_defined_backwards_are_an_error_not_a_stack_overflow() {
    // `Nest0` has a branch of `Nest1`, which has one of `Nest2`, ...: each branch type
    // is checked before the union that uses it, and from 7.2 on its branches' members
    // are checked for clashes with the union's too.
    let n = 20_000;
    let mut text = String::from("{ 'enum': 'One', 'data': [ 'a' ] }\n");
    for i in 0..n {
        let arm = if i + 1 == n {
            "Leaf".to_owned()
        } else {
            format!("Nest{}", i + 1)
        };
        text.push_str(&format!(
            "{{ 'struct': 'Base{i}', 'data': {{ 'k{i}': 'One' }} }}\n\
             {{ 'union': 'Nest{i}', 'base': 'Base{i}', 'discriminator': 'k{i}', \
                'data': {{ 'a': '{arm}' }} }}\n"
        ));
    }
    text.push_str("{ 'struct': 'Leaf', 'data': { 'x': 'int' } }\n");
    refused(&text, "is nested too deep: more than 400 levels");

    // 300 levels, forwards: checked without nesting, then the clash check of the
    // last union goes 300 branches deep.
    let mut text = String::from(
        "{ 'enum': 'One', 'data': [ 'a' ] }\n{ 'struct': 'Leaf', 'data': { 'x': 'int' } }\n",
    );
    let mut prev = "Leaf".to_owned();
    nest(&mut text, &mut prev, 0..300);
    load(&text).expect("valid");
    // 500 levels: the clash check refuses to go deeper than 400.
    nest(&mut text, &mut prev, 300..500);
    refused(&text, "more than 400 levels of branches");
}

/// Appends, for each `i`, a union `Nest{i}` whose one branch is `prev`, which then
/// becomes `Nest{i}`.
fn nest(text: &mut String, prev: &mut String, levels: std::ops::Range<usize>) {
    for i in levels {
        text.push_str(&format!(
            "{{ 'struct': 'Base{i}', 'data': {{ 'k{i}': 'One' }} }}\n\
             {{ 'union': 'Nest{i}', 'base': 'Base{i}', 'discriminator': 'k{i}', \
                'data': {{ 'a': '{prev}' }} }}\n"
        ));
        *prev = format!("Nest{i}");
    }
}

#[test]
fn duplicates_and_clashes_among_many_names() {
    // Past a few dozen names, keys and members are found through an index: a
    // duplicate key at the end of 30 000 is still reported.
    let members = list(30_000, |i| format!("'m{i}': 'int'"));
    let text = format!("{{ 'struct': 'Wide', 'data': {{ {members}, 'm17': 'str' }} }}\n");
    refused(&text, "duplicate key 'm17'");
    // Clashes by C name too ('m_1-x' and 'm-1_x', where the pragma allows '_').
    let text = format!(
        "{{ 'pragma': {{ 'member-name-exceptions': [ 'Wide' ] }} }}\n\
         {{ 'struct': 'Wide', 'data': {{ {members}, 'm_1-x': 'str', 'm-1_x': 'int' }} }}\n"
    );
    refused(&text, "member 'm-1_x' collides with member 'm_1-x'");

    // A union with 40 common members and 30 branches of 40 members each: the names
    // of one branch do not clash with another's, one that repeats a common member
    // does.
    let base = list(40, |i| format!("'c{i}': 'int'"));
    let values = list(30, |b| format!("'b{b}'"));
    let mut text = format!(
        "{{ 'enum': 'Tag', 'data': [ {values} ] }}\n\
         {{ 'struct': 'Common', 'data': {{ 'tag': 'Tag', {base} }} }}\n"
    );
    for b in 0..30 {
        let ms = list(40, |i| format!("'x{i}': 'int'"));
        text.push_str(&format!("{{ 'struct': 'Arm{b}', 'data': {{ {ms} }} }}\n"));
    }
    let branches = list(30, |b| format!("'b{b}': 'Arm{b}'"));
    text.push_str(&format!(
        "{{ 'union': 'Uni', 'base': 'Common', 'discriminator': 'tag', 'data': {{ {branches} }} }}\n"
    ));
    load(&text).expect("valid");
    let bad = text.replace(
        "{ 'struct': 'Arm29', 'data': { 'x0'",
        "{ 'struct': 'Arm29', 'data': { 'c39': 'int', 'x0'",
    );
    refused(
        &bad,
        "member 'c39' of type 'Arm29' collides with member 'c39' of type 'Common'",
    );
}

#[test]
fn the_first_error_among_many_names_is_the_one_reported_in_order() {
    // Thousands of keys, values or members are checked for repeats all at once; the
    // error is still the first one, where reading them one by one finds it.
    let pragma = "{ 'pragma': { 'member-name-exceptions': [ 'Wide', 'Enm' ] } }\n";
    let wide = |f: &dyn Fn(usize) -> String| {
        format!(
            "{pragma}{{ 'struct': 'Wide', 'data': {{ {} }} }}\n",
            list(20_000, f)
        )
    };
    let member = |i: usize| format!("'m{i}': 'int'");

    // A key repeated, then another, then a syntax error: the first repeat, at its
    // line and column.
    let text = wide(&|i| match i {
        900 => "'m5': 'int'".into(),
        1000 => "'m6': 'int'".into(),
        1500 => "'m7' 'int'".into(),
        _ => member(i),
    });
    let e = refused(&text, "duplicate key 'm5'");
    let col = text
        .lines()
        .nth(1)
        .and_then(|l| l.find("'m5': 'int', 'm901'"));
    assert_eq!(e.column, col.map(|c| c as u32 + 7), "{e}");
    // A syntax error before the repeat comes first.
    let text = wide(&|i| match i {
        800 => "'m800' 'int'".into(),
        900 => "'m5': 'int'".into(),
        _ => member(i),
    });
    refused(&text, "expected ':'");
    // A key repeated in the object around a large one.
    let text = format!(
        "{{ 'struct': 'Wide', 'data': {{ {} }}, 'data': {{ }} }}\n",
        list(20_000, member)
    );
    refused(&text, "duplicate key 'data'");

    // Members whose C names clash: the first clash, naming the first of the two.
    let text = wide(&|i| match i {
        4000 => "'m_x': 'int'".into(),
        8000 => "'m-x': 'int'".into(),
        8500 => "'m-y': 'int'".into(),
        9000 => "'m_y': 'int'".into(),
        _ => member(i),
    });
    refused(&text, "member 'm-x' collides with member 'm_x'");
    // An unknown type after the clash: the clash; before it: the unknown type.
    let text = wide(&|i| match i {
        4000 => "'m_x': 'int'".into(),
        8000 => "'m-x': 'int'".into(),
        9000 => "'m9000': 'Nope'".into(),
        _ => member(i),
    });
    refused(&text, "member 'm-x' collides with member 'm_x'");
    let text = wide(&|i| match i {
        4000 => "'m_x': 'int'".into(),
        7000 => "'m7000': 'Nope'".into(),
        8000 => "'m-x': 'int'".into(),
        _ => member(i),
    });
    refused(&text, "member 'm7000' uses unknown type 'Nope'");
    // Many members from a base, and one of the struct's own repeating one.
    let text = format!(
        "{{ 'struct': 'Base', 'data': {{ {} }} }}\n\
         {{ 'struct': 'Der', 'base': 'Base', 'data': {{ 'x': 'int', 'm77': 'str' }} }}\n",
        list(20_000, member)
    );
    refused(
        &text,
        "member 'm77' collides with member 'm77' of type 'Base'",
    );

    // Enum values: the first repeat, not the first value repeated.
    let values = |f: &dyn Fn(usize) -> String| {
        format!(
            "{pragma}{{ 'enum': 'Enm', 'data': [ {} ] }}\n",
            list(20_000, f)
        )
    };
    let text = values(&|i| match i {
        12_000 => "'v11'".into(),
        15_000 => "'v10'".into(),
        _ => format!("'v{i}'"),
    });
    refused(&text, "value 'v11' collides with value 'v11'");
    let text = values(&|i| match i {
        10 => "'v_10'".into(),
        15_000 => "'v-10'".into(),
        _ => format!("'v{i}'"),
    });
    refused(&text, "value 'v-10' collides with value 'v_10'");
    // The same value 20 000 times.
    refused(
        &values(&|_| "'x'".into()),
        "value 'x' collides with value 'x'",
    );
    load(&values(&|i| format!("'v{i}'"))).expect("valid");
}
