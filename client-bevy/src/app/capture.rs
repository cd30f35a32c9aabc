//! `--screenshot PATH --frames N`: once N frames have been drawn with the local player on
//! screen (or the connection has failed, to show its message), save the window as a PNG and
//! exit. Bounded: after [`MAX_WAIT`] it takes the picture anyway.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use client_bevy::{ConnectionState, LocalPlayer};

/// Longest wait for the session before the picture is taken anyway.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// What to capture.
#[derive(Resource, Debug, Clone)]
pub(crate) struct Capture {
    /// Where the PNG goes.
    pub(crate) path: PathBuf,
    /// Frames to draw (with something to show) first.
    pub(crate) frames: u32,
}

#[derive(Resource, Default)]
struct Progress {
    /// Frames drawn with the session showing.
    ready_frames: u32,
    requested: bool,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Progress>().add_systems(Last, take);
}

fn take(
    mut commands: Commands,
    capture: Res<Capture>,
    mut progress: ResMut<Progress>,
    time: Res<Time<Real>>,
    state: Res<ConnectionState>,
    me: Query<(), With<LocalPlayer>>,
) {
    if progress.requested {
        return;
    }
    let showing = !me.is_empty() || matches!(*state, ConnectionState::Disconnected(_));
    if showing {
        progress.ready_frames += 1;
    }
    if progress.ready_frames < capture.frames && time.elapsed() < MAX_WAIT {
        return;
    }
    progress.requested = true;
    info!(path = %capture.path.display(), frames = progress.ready_frames, "taking the screenshot");
    commands
        .spawn(Screenshot::primary_window())
        .observe(save_to_disk(capture.path.clone()))
        .observe(|_: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            exit.write(AppExit::Success);
        });
}
