//! Unit tests per value kind, each expectation derived by hand from the
//! StructuredSerializeInternal / StructuredDeserialize steps quoted.

use crate::message::{
    structured_serialize_with_transfer, MessageValue, RealmBuffers, SerializeError,
};
use serde_json::json;

fn value(s: &str) -> MessageValue {
    MessageValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap()
}

fn refused(s: &str) -> String {
    MessageValue::from_yaml(&serde_yaml::from_str(s).unwrap())
        .unwrap_err()
        .to_string()
}

fn post(s: &str) -> Result<(), SerializeError> {
    structured_serialize_with_transfer(&value(s), &[], &mut RealmBuffers::default())
}

#[test]
fn map_keeps_entry_order_and_set_semantics() {
    // Map.prototype.set: a key already there keeps its place, takes the new
    // value; -0 is stored as +0. 26.1 serializes entries in order.
    let v = value("{$map: [[a, 1], [{$number: '-0'}, 2], [a, 3], [0, 4]]}");
    assert_eq!(v.observable_json(), json!({"$map": [["a", 3], [0, 4]]}));
    // NaN is SameValueZero to NaN.
    let v = value("{$set: [.nan, .nan, 1, '1']}");
    assert_eq!(
        v.observable_json(),
        json!({"$set": [{"$number": "NaN"}, 1, "1"]})
    );
}

#[test]
fn map_object_keys_are_distinct_unless_the_same_object() {
    // Two object literals are two keys; a $ref to the same object is one.
    let v = value("{$map: [[{}, 1], [{}, 2], [{$id: k, a: 1}, 3], [{$ref: k}, 4]]}");
    assert_eq!(
        v.observable_json(),
        json!({"$map": [[{}, 1], [{}, 2], [{"a": 1}, 4]]})
    );
}

#[test]
fn dates_are_time_clipped_when_built() {
    // TimeClip: not finite or beyond 8.64e15 -> NaN; truncated otherwise.
    assert_eq!(value("{$date: 1.9}").observable_json(), json!({"$date": 1}));
    assert_eq!(
        value("{$date: 8.64e15}").observable_json(),
        json!({"$date": 8_640_000_000_000_000i64})
    );
    assert_eq!(
        value("{$date: 8.640000000000001e15}").observable_json(),
        json!({"$date": {"$number": "NaN"}})
    );
    assert_eq!(
        value("{$date: {$number: '-0'}}").observable_json(),
        json!({"$date": 0})
    );
    assert!(post("{$date: 0}").is_ok(), "step 11 copies [[DateValue]]");
}

#[test]
fn regexp_source_and_flags_as_the_receiver_reads_them() {
    // Deserialize: RegExpCreate(OriginalSource, OriginalFlags); `flags`
    // lists d g i m s u y in that order; an empty source reads "(?:)".
    assert_eq!(
        value("{$regexp: {source: 'a+', flags: yig}}").observable_json(),
        json!({"$regexp": {"source": "a+", "flags": "giy"}})
    );
    assert_eq!(
        value("{$regexp: {source: ''}}").observable_json(),
        json!({"$regexp": {"source": "(?:)", "flags": ""}})
    );
    assert!(refused("{$regexp: {source: a, flags: gg}}").contains("at most once"));
}

#[test]
fn bigints_are_canonical_digits_and_primitives() {
    assert_eq!(
        value("{$bigint: '-007'}").observable_json(),
        json!({"$bigint": "-7"})
    );
    assert_eq!(
        value("{$bigint: '-0'}").observable_json(),
        json!({"$bigint": "0"})
    );
    assert!(refused("{$bigint: 1.5}").contains("decimal digits"));
    // 4. BigInt is a primitive: no exception.
    assert!(post("{$bigint: '12345678901234567890'}").is_ok());
}

#[test]
fn boxed_primitives_serialize_but_a_boxed_symbol_does_not() {
    // 7-10: [[BooleanData]], [[NumberData]], [[BigIntData]], [[StringData]].
    for s in [
        "{boolean: false}",
        "{number: .nan}",
        "{string: x}",
        "{bigint: '5'}",
    ] {
        assert!(post(&format!("{{$boxed: {s}}}")).is_ok(), "{s}");
    }
    assert_eq!(
        value("{$boxed: {number: .nan}}").observable_json(),
        json!({"$boxed": {"number": {"$number": "NaN"}}})
    );
    // 22: [[SymbolData]] is an internal slot not in the allowed list.
    assert!(
        matches!(post("{$boxed: {symbol: s}}"), Err(SerializeError::DataClone(w)) if w.contains("step 22"))
    );
}

#[test]
fn errors_keep_the_seven_names_and_turn_others_into_error() {
    // 17.2: name not one of the seven -> "Error".
    assert_eq!(
        value("{$error: {name: RangeError, message: m}}").observable_json(),
        json!({"$error": {"name": "RangeError", "message": "m"}})
    );
    assert_eq!(
        value("{$error: {name: MyError, message: m}}").observable_json(),
        json!({"$error": {"name": "Error", "message": "m"}})
    );
    // 17.1 reads `name` with Get: an Error whose own name says TypeError
    // arrives as a TypeError.
    assert_eq!(
        value("{$error: {name: TypeError, constructor: Error}}").observable_json(),
        json!({"$error": {"name": "TypeError"}})
    );
    // 17.4: no own message -> undefined -> the receiver defines none.
    assert_eq!(
        value("{$error: {}}").observable_json(),
        json!({"$error": {"name": "Error"}})
    );
    assert!(refused("{$error: {constructor: DOMException}}").contains("not one of"));
}

#[test]
fn views_share_their_buffer_and_keep_offsets() {
    // 14.3 serializes the viewed buffer through memory: two views of one
    // buffer arrive over one buffer; offsets and lengths are kept.
    let v = value(
        "[{$buffer: {id: b, bytes: [1, 2, 3, 4, 5, 6, 7, 8]}}, {$typed: {type: Uint16Array, buffer: b, offset: 2, length: 3}}, {$dataview: {buffer: b, offset: 1, length: 2}}]",
    );
    assert_eq!(
        v.observable_json(),
        json!([
            {"$id": "o1", "$buffer": {"bytes": [1, 2, 3, 4, 5, 6, 7, 8]}},
            {"$typed": {"type": "Uint16Array", "buffer": {"$ref": "o1"}, "offset": 2, "length": 3}},
            {"$dataview": {"buffer": {"$ref": "o1"}, "offset": 1, "length": 2}}
        ])
    );
    assert!(refused("{$typed: {type: Uint32Array, buffer: {$buffer: {bytes: [0, 0, 0, 0, 0]}}, offset: 2, length: 1}}").contains("multiple of 4"));
    assert!(
        refused("{$typed: {type: Float64Array, buffer: {$buffer: {bytes: [0]}}, length: 1}}")
            .contains("does not fit")
    );
    assert!(refused("{$dataview: {buffer: nope, length: 0}}").contains("names no"));
}

#[test]
fn a_view_over_a_detached_buffer_throws_data_clone_error() {
    let mut realm = RealmBuffers::default();
    let buffer = value("{$buffer: {id: b, bytes: [1, 2]}}");
    structured_serialize_with_transfer(
        &buffer,
        &[crate::message::Transferable::BufferId("b".into())],
        &mut realm,
    )
    .unwrap();
    let view = value(
        "[{$buffer: {id: b, bytes: [1, 2]}}, {$typed: {type: Uint8Array, buffer: b, length: 2}}]",
    );
    // 13.2.1 (the buffer, met first) or 14.1 (the view): DataCloneError.
    assert!(matches!(
        structured_serialize_with_transfer(&view, &[], &mut realm),
        Err(SerializeError::DataClone(_))
    ));
}

#[test]
fn sparse_arrays_and_extra_properties_survive() {
    // 18: [[Length]] is copied; 26.4 copies only own properties, so holes
    // stay holes (trailing ones too) and extra keys come after the indices.
    let v = value("[1, {$hole: null}, 3, {$hole: null}]");
    assert_eq!(
        v.observable_json(),
        json!([1, {"$hole": null}, 3, {"$hole": null}])
    );
    let v = value("{$array: [1], z: 2, a: 3}");
    assert_eq!(v.observable_json(), json!({"$array": [1], "z": 2, "a": 3}));
    assert!(refused("{a: {$hole: null}}").contains("array item"));
    assert!(refused("{$array: [1], '0': 2}").contains("cannot be an extra property"));
}

#[test]
fn identity_is_kept_for_shared_objects_and_cycles() {
    // 2: memory[value] exists -> the same record; deserialize 2: the same
    // object. Names are given in the order objects are first met.
    let v = value("{a: {$id: x, n: 1}, b: {$ref: x}, c: {}}");
    assert_eq!(
        v.observable_json(),
        json!({"a": {"$id": "o1", "n": 1}, "b": {"$ref": "o1"}, "c": {}})
    );
    // A cycle: the object contains itself.
    let v = value("{$id: self, me: {$ref: self}, list: {$id: l, $array: [{$ref: l}]}}");
    assert_eq!(
        v.observable_json(),
        json!({"$id": "o1", "me": {"$ref": "o1"}, "list": {"$id": "o2", "$array": [{"$ref": "o2"}]}})
    );
    assert!(
        post("{$id: self, me: {$ref: self}}").is_ok(),
        "a cycle terminates"
    );
    // A $ref met before its $id: the first one met carries the object.
    let v = value("{a: {$ref: x}, b: {$id: x, n: 1}}");
    assert_eq!(
        v.observable_json(),
        json!({"a": {"$id": "o1", "n": 1}, "b": {"$ref": "o1"}})
    );
    // An $id met once is not observable.
    assert_eq!(value("{$id: x, n: 1}").observable_json(), json!({"n": 1}));
    assert!(refused("{a: {$ref: y}}").contains("names no"));
    assert!(refused("[{$id: x}, {$id: x}]").contains("defined twice"));
    assert!(refused("{$id: x, $number: NaN}").contains("not an object"));
}

#[test]
fn uncloneables_throw_in_property_order() {
    // 20: a platform object that is not serializable.
    assert!(
        matches!(post("{n: {$node: div}}"), Err(SerializeError::DataClone(w)) if w.contains("step 20"))
    );
    // 26.4.1.1: `? [[Get]]` propagates the getter's exception; properties
    // are read in order, so the getter (b) throws before the function (c).
    assert_eq!(
        post("{a: 1, b: {$throwing_getter: RangeError}, c: {$function: f}}"),
        Err(SerializeError::Thrown("RangeError".into()))
    );
    assert!(matches!(
        post("{a: {$function: f}, b: {$throwing_getter: RangeError}}"),
        Err(SerializeError::DataClone(_))
    ));
    // Integer keys come first in [[OwnPropertyKeys]] order.
    assert_eq!(
        post("{b: {$function: f}, '1': {$throwing_getter: URIError}}"),
        Err(SerializeError::Thrown("URIError".into()))
    );
    assert!(refused("{$throwing_getter: TypeError}").contains("property"));
}

#[test]
fn non_enumerable_and_symbol_keyed_properties_are_never_read() {
    // 26.4: EnumerableOwnProperties(value, key) lists neither; so even a
    // function or a throwing getter there does not throw.
    let v = value("{a: 1, $non_enumerable: {f: {$function: f}, g: {$throwing_getter: TypeError}}, $symbol_keyed: {s: {$function: h}}}");
    assert!(structured_serialize_with_transfer(&v, &[], &mut RealmBuffers::default()).is_ok());
    assert_eq!(v.observable_json(), json!({"a": 1}));
    let v = value("{$array: [1], $non_enumerable: {x: 2}}");
    assert_eq!(v.observable_json(), json!([1]));
}

#[test]
fn tagged_forms_round_trip_for_the_page() {
    let text = "{$id: r, a: {$ref: r}, m: {$map: [[{$date: 5}, {$set: [{$bigint: '1'}]}]]}, e: {$error: {name: X, message: m}}, $non_enumerable: {h: 1}}";
    let v = value(text);
    let again = MessageValue::from_tagged_json(&v.to_tagged_json()).unwrap();
    assert_eq!(again.to_tagged_json(), v.to_tagged_json());
    assert_eq!(again.observable_json(), v.observable_json());
}

#[test]
fn regexp_source_escapes_slashes_and_line_terminators_and_drops_last_index() {
    // Step 12 copies [[OriginalSource]] and [[OriginalFlags]]; the receiver
    // reads `source`, which EscapeRegExpPattern escapes: `/` outside a
    // class as `\/` (an escaped one stays), line terminators as `\n`,
    // `\r`, `\u2028`. lastIndex is an own property: not serialized, so the
    // new RegExp's lastIndex is 0 (RegExpCreate -> RegExpInitialize sets
    // it to 0).
    let v = value("{$regexp: {source: \"a/b\\\\/c\\nd\\r\\u2028\", flags: g, last_index: 3}}");
    assert_eq!(
        v.observable_json(),
        json!({"$regexp": {"source": "a\\/b\\/c\\nd\\r\\u2028", "flags": "g"}})
    );
    assert_eq!(v.to_tagged_json()["$regexp"]["last_index"], 3);
    assert!(refused("{$regexp: {source: '[/]'}}").contains("inside a character class"));
    // `[` escaped is no class: the slash after it is escaped.
    let v = value("{$regexp: {source: '\\[/'}}");
    assert_eq!(v.observable_json()["$regexp"]["source"], "\\[\\/");
}

#[test]
fn error_message_is_to_string_of_the_own_data_property_and_other_properties_drop() {
    // 17.3-17.5: valueMessageDesc = ? value.[[GetOwnProperty]]("message");
    // if a data descriptor, message = ? ToString(its value). No other own
    // property is read.
    let o = |s: &str| value(s).observable_json();
    assert_eq!(
        o("{$error: {name: TypeError, message_value: {$undefined: null}, props: {code: 7}}}"),
        json!({"$error": {"name": "TypeError", "message": "undefined"}})
    );
    assert_eq!(
        o("{$error: {message_value: {a: 1}}}"),
        json!({"$error": {"name": "Error", "message": "[object Object]"}})
    );
    assert_eq!(
        o("{$error: {message_value: [1, null, x]}}"),
        json!({"$error": {"name": "Error", "message": "1,,x"}})
    );
    assert_eq!(
        o("{$error: {message_value: 42}}"),
        json!({"$error": {"name": "Error", "message": "42"}})
    );
    // ToString(Symbol) throws a TypeError, which propagates (`?`); it is
    // the abstract operation's, made in the current realm, not a getter's.
    assert!(matches!(
        post("{$error: {message_value: {$symbol: s}}}"),
        Err(SerializeError::TypeError(_))
    ));
    assert!(refused("{$error: {message: a, message_value: b}}").contains("not both"));
}

#[test]
fn typed_arrays_over_a_shared_buffer_and_its_identity() {
    // 14.3: the view's buffer is serialized as itself (13.1.2: a shared
    // data block reference); memory keeps one record per object, so one
    // SharedArrayBuffer named twice arrives as one object.
    let v = value(
        "{a: {$typed: {type: Uint8Array, buffer: {$id: s, $sab: {bytes: [1, 2]}}, offset: 1, length: 1}}, b: {$ref: s}}",
    );
    assert_eq!(
        v.observable_json(),
        json!({
            "a": {"$typed": {"type": "Uint8Array", "buffer": {"$id": "o1", "$sab": {"bytes": [1, 2]}}, "offset": 1, "length": 1}},
            "b": {"$ref": "o1"}
        })
    );
    let mut realm = RealmBuffers::default();
    assert!(structured_serialize_with_transfer(&v, &[], &mut realm).is_err());
    realm.cross_origin_isolated = true;
    assert!(structured_serialize_with_transfer(&v, &[], &mut realm).is_ok());
}

#[test]
fn resizable_buffers_and_length_tracking_views() {
    // 13.2.3: a resizable buffer is serialized with its byte length and
    // [[ArrayBufferMaxByteLength]]; resize keeps the bytes that fit and
    // zeroes new ones.
    let o = |s: &str| value(s).observable_json();
    assert_eq!(
        o("{$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 6}}"),
        json!({"$buffer": {"bytes": [1, 2, 3, 4, 0, 0], "max_byte_length": 8}})
    );
    // A length-tracking Uint16Array at offset 2 over 7 bytes has
    // floor((7 - 2) / 2) = 2 elements.
    assert_eq!(
        o("{$typed: {type: Uint16Array, buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 7}}, offset: 2, length: auto}}")["$typed"]["length"],
        2
    );
    assert!(refused(
        "{$typed: {type: Uint8Array, buffer: {$buffer: {bytes: [1]}}, offset: 0, length: auto}}"
    )
    .contains("needs a resizable $buffer"));
    assert!(refused("{$buffer: {bytes: [1], resize: 2}}").contains("needs max_byte_length"));
    assert!(refused("{$buffer: {bytes: [1, 2, 3], max_byte_length: 2}}").contains("exceed"));
}

#[test]
fn out_of_bounds_views_throw_data_clone_error() {
    // 14.1: "If IsArrayBufferViewOutOfBounds(value) is true, then throw a
    // DataCloneError": a fixed-length view whose end passes the buffer's
    // byte length now, or a length-tracking one whose offset does.
    let oob = |s: &str| matches!(post(s), Err(SerializeError::DataClone(m)) if m.contains("14.1"));
    assert!(oob("{$typed: {type: Uint8Array, buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 2}}, offset: 0, length: 4}}"));
    assert!(oob("{$typed: {type: Uint8Array, buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 2}}, offset: 3, length: auto}}"));
    assert!(oob("{$dataview: {buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 3}}, offset: 1, length: 3}}"));
    assert!(post("{$typed: {type: Uint8Array, buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 4}}, offset: 0, length: 4}}").is_ok());
    // A length-tracking view whose offset equals the new length is in
    // bounds, with length 0.
    assert!(post("{$typed: {type: Uint8Array, buffer: {$buffer: {bytes: [1, 2, 3, 4], max_byte_length: 8, resize: 2}}, offset: 2, length: auto}}").is_ok());
}

#[test]
fn an_errors_realm_is_written_for_the_page_and_never_observed() {
    let v = value("{$error: {name: TypeError, message: m, realm: same}}");
    // The page builds it with `same`'s constructor...
    assert_eq!(v.to_tagged_json()["$error"]["realm"], "same");
    let again = MessageValue::from_tagged_json(&v.to_tagged_json()).unwrap();
    assert_eq!(again, v);
    assert_eq!(v.error_realms(), ["same"]);
    // ...and what arrives does not say where it was made.
    assert_eq!(
        v.observable_json(),
        json!({"$error": {"name": "TypeError", "message": "m"}})
    );
    assert!(refused("{$error: {name: TypeError, realm: \"a b\"}}").contains("is not a window name"));
    assert!(refused("{$error: {name: TypeError, realm: 3}}").contains("realm must be a string"));
}

#[test]
fn growable_shared_buffers_keep_their_maximum_and_track() {
    // StructuredSerializeInternal 13.1.3: a SharedArrayBuffer with an
    // [[ArrayBufferMaxByteLength]] is serialized as a
    // "GrowableSharedArrayBuffer" with its [[ArrayBufferByteLengthData]]
    // and maximum; StructuredDeserialize 13.2 makes a SharedArrayBuffer
    // with the same data, byte length data and maximum: growable, same
    // bytes. 13.1.4: one without stays fixed-length (no maximum).
    let o = |s: &str| value(s).observable_json();
    assert_eq!(
        o("{$sab: {bytes: [1, 2], max_byte_length: 8}}"),
        json!({"$sab": {"bytes": [1, 2], "max_byte_length": 8}})
    );
    assert_eq!(
        o("{$sab: {bytes: [1, 2]}}"),
        json!({"$sab": {"bytes": [1, 2]}})
    );
    // A length-tracking view needs a buffer that can change length: a
    // growable SharedArrayBuffer is one. Uint16Array at offset 2 over 6
    // bytes: floor((6 - 2) / 2) = 2 elements.
    assert_eq!(
        o("{$typed: {type: Uint16Array, buffer: {$sab: {bytes: [1, 2, 3, 4, 5, 6], max_byte_length: 8}}, offset: 2, length: auto}}")["$typed"]["length"],
        2
    );
    assert!(refused(
        "{$typed: {type: Uint8Array, buffer: {$sab: {bytes: [1]}}, offset: 0, length: auto}}"
    )
    .contains("growable $sab"));
    // AllocateSharedArrayBuffer: byteLength > maxByteLength is a RangeError.
    assert!(refused("{$sab: {bytes: [1, 2, 3], max_byte_length: 2}}").contains("exceed"));
    assert!(refused("{$sab: {bytes: [], max_byte_length: -1}}").contains("max_byte_length"));
    // 13.1.1 holds for the growable form too, and 13.1.3 serializes it.
    let v = value("{$sab: {bytes: [1], max_byte_length: 4}}");
    let mut realm = RealmBuffers::default();
    assert!(structured_serialize_with_transfer(&v, &[], &mut realm).is_err());
    realm.cross_origin_isolated = true;
    assert!(structured_serialize_with_transfer(&v, &[], &mut realm).is_ok());
}
