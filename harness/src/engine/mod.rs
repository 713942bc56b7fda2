//! The browser engines pmconf drives, and everything needed to run them:
//! which binaries each needs ([`EngineDescription`]), finding them
//! ([`discover`], [`doctor`]), the capabilities each session asks for
//! ([`capabilities`]), the processes the harness owns and how they are all
//! ended ([`ProcessRegistry`], [`install_signal_cleanup`]), an X display
//! for engines without a headless mode ([`start_xvfb`]), and live WebDriver
//! sessions ([`start_session`], [`EngineSession`]).

mod capabilities;
mod config;
mod deadline;
mod description;
mod direct;
mod discovery;
mod display;
mod driver;
mod error;
mod id;
mod instance;
pub(crate) mod proc_table;
mod process;
mod remote;
mod session;
mod signals;

pub use capabilities::{
    add_browser_args, capabilities, Placement, PlacementRules, RemoteBinary, PLACEMENT_RULES,
};
pub use config::{load_instances, parse_instances, ConfigError, DeclaredInstance, DEFAULT_CONFIG};
pub use deadline::CommandDeadline;
pub use description::{
    apt_install_command, BinaryLocation, BinarySpec, EngineDescription, InstallStep, Quirk,
    SessionsPerDriver, VersionSource, INSTALL_SCRIPT, XVFB,
};
pub use direct::{open_directly, DirectBrowser};
pub use discovery::{
    discover, discover_in, doctor, major_version, parse_version, DoctorLine, FoundBinary,
    Installed, Missing, MissingBinary, SearchEnv,
};
pub use display::{start_xvfb, DisplayError, XvfbDisplay, DISPLAY_READY_TIMEOUT};
pub use driver::DRIVER_READY_TIMEOUT;
pub use error::SetupError;
pub use id::{EngineId, UnknownEngine};
pub use instance::{EngineInstance, LocalBinaries, Location};
pub use proc_table::{children_of, ProcessIdentity};
pub use process::{
    EndAllOnDrop, ProcessHandle, ProcessRegistry, ProcessState, OWNER_VARIABLE, TERMINATE_GRACE,
};
pub use remote::{start_remote_session, REMOTE_SESSION_CREATE_TIMEOUT};
pub use session::{
    start_session, start_session_with_args, EngineSession, SESSION_CREATE_TIMEOUT,
    SESSION_DELETE_TIMEOUT,
};
pub use signals::{
    install_signal_cleanup, signal_exit_status, EXIT_ON_SIGHUP, EXIT_ON_SIGINT, EXIT_ON_SIGTERM,
};
