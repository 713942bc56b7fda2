//! `pmconf doctor`: which engines and drivers are installed, with versions,
//! and the command that installs what is missing.

use crate::engine::doctor;

/// Runs `pmconf doctor`; exit status 0 when every engine is ready, 2
/// otherwise (so scripts can gate on it).
pub fn run() -> i32 {
    let lines = doctor();
    let mut all_ok = true;
    for line in &lines {
        println!("{line}");
        all_ok &= line.is_ok();
    }
    if !all_ok {
        println!("\nsome engines are missing; `bash scripts/install-engines` installs all of them");
    }
    if all_ok {
        0
    } else {
        super::EXIT_BAD_INPUT
    }
}
