//! Moving WebDriver's current browsing context from one window of a batch
//! to the next with as few commands as possible.
//!
//! WebDriver's Switch To Window goes to a top-level window; Switch To
//! Frame enters a child frame by index; Switch To Parent Frame goes up one
//! level. Entering a window afresh costs one command plus one per frame
//! level; when the context is known to be in the same top-level window,
//! going up to the closest common ancestor and down from there is often
//! cheaper (from a case's top frame into its child: one command instead of
//! three). Where the frame tree may have changed under the context (a race
//! case removes frames, which renumbers `frames`, and navigates them), the
//! caller asks for a fresh entry instead.

use fantoccini::error::CmdError;
use fantoccini::wd::WindowHandle;
use fantoccini::Client;

/// Where the current browsing context is: a top-level window and the
/// frame indices from it down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The top-level window.
    pub top: WindowHandle,
    /// Frame indices from the top-level window's document.
    pub frames: Vec<u16>,
}

/// The commands that move from one place to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moves {
    /// Switch To Window first (to the target's top-level window).
    pub switch: bool,
    /// Then Switch To Parent Frame this many times.
    pub up: usize,
    /// Then Switch To Frame with each of these indices.
    pub down: Vec<u16>,
}

impl Moves {
    /// How many WebDriver commands they are.
    pub fn commands(&self) -> usize {
        usize::from(self.switch) + self.up + self.down.len()
    }
}

/// The fewest commands from `from` (unknown: `None`) to `to`.
pub fn plan_moves(from: Option<&At>, to: &At) -> Moves {
    let fresh = Moves {
        switch: true,
        up: 0,
        down: to.frames.clone(),
    };
    let Some(from) = from.filter(|f| f.top == to.top) else {
        return fresh;
    };
    let common = from
        .frames
        .iter()
        .zip(&to.frames)
        .take_while(|(a, b)| a == b)
        .count();
    let relative = Moves {
        switch: false,
        up: from.frames.len() - common,
        down: to.frames[common..].to_vec(),
    };
    if relative.commands() <= fresh.commands() {
        relative
    } else {
        fresh
    }
}

/// Moves the current context to `to` (from `at`, or afresh when `fresh`)
/// and records where it is; on an error the place is unknown.
pub async fn move_to(
    client: &Client,
    at: &mut Option<At>,
    to: At,
    fresh: bool,
) -> Result<(), CmdError> {
    let moves = plan_moves(if fresh { None } else { at.as_ref() }, &to);
    *at = None;
    if moves.switch {
        client.switch_to_window(to.top.clone()).await?;
    }
    for _ in 0..moves.up {
        client.enter_parent_frame().await?;
    }
    for &f in &moves.down {
        client.enter_frame(f).await?;
    }
    *at = Some(to);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(top: &str, frames: &[u16]) -> At {
        At {
            top: WindowHandle::try_from(top.to_owned()).unwrap(),
            frames: frames.to_vec(),
        }
    }

    #[test]
    fn unknown_or_another_window_enters_afresh() {
        let to = at("runner", &[3, 1]);
        let fresh = Moves {
            switch: true,
            up: 0,
            down: vec![3, 1],
        };
        assert_eq!(plan_moves(None, &to), fresh);
        assert_eq!(plan_moves(Some(&at("popup", &[3])), &to), fresh);
    }

    #[test]
    fn within_one_window_goes_through_the_closest_common_ancestor() {
        // A case's top frame into its child: one command, not three.
        let m = plan_moves(Some(&at("runner", &[3])), &at("runner", &[3, 0]));
        assert_eq!((m.switch, m.up, m.down.as_slice()), (false, 0, &[0][..]));
        // Back up: one command.
        let m = plan_moves(Some(&at("runner", &[3, 0])), &at("runner", &[3]));
        assert_eq!((m.switch, m.up, m.down.len()), (false, 1, 0));
        // Sibling frames: up one, down one.
        let m = plan_moves(Some(&at("runner", &[3, 0])), &at("runner", &[3, 1]));
        assert_eq!((m.switch, m.up, m.down.as_slice()), (false, 1, &[1][..]));
        // Already there: nothing.
        assert_eq!(
            plan_moves(Some(&at("runner", &[3, 1])), &at("runner", &[3, 1])).commands(),
            0
        );
    }

    #[test]
    fn a_long_way_up_is_replaced_by_a_fresh_entry() {
        // From depth 3 of one case to the next case's top frame: up 3 and
        // down 1 is 4 commands; switching afresh is 2.
        let m = plan_moves(Some(&at("runner", &[2, 0, 0])), &at("runner", &[4]));
        assert_eq!(
            m,
            Moves {
                switch: true,
                up: 0,
                down: vec![4]
            }
        );
        // From one case's top frame to the next: up 1 and down 1, or
        // switch and down 1: the same count; either is right.
        assert_eq!(
            plan_moves(Some(&at("runner", &[2])), &at("runner", &[3])).commands(),
            2
        );
    }
}
