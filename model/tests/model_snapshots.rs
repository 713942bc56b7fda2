//! The model's answer for every case under `cases/`, as insta snapshots in
//! `snapshots/model/`. A change in the model or a case shows up as a
//! reviewable diff (`cargo insta review`); CI never accepts snapshots.

use pmconf_model::{answer_case, parse_case};

#[test]
fn model_answer_for_every_case() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots/model");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../../cases", "**/*.yaml", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let case = parse_case(&name, &text).unwrap_or_else(|errors| {
                panic!(
                    "{}",
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
            let mut info = insta::Settings::clone_current();
            info.set_description(case.description.clone());
            info.bind(|| insta::assert_yaml_snapshot!("model", answer_case(&case)));
        });
    });
}
