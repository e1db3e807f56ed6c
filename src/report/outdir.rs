//! The one rule for writing an output folder, followed by every command that writes one
//! (`run`, `sweep`, `sensitivity`, `solve`, `compare`, `chart`, `check --bless`).
//!
//! - **Ownership.** Every folder capsim writes holds a marker, [`MARKER`] (`.capsim-output`):
//!   the line [`HEADER`], a sentence for people, then the relative paths capsim wrote there,
//!   one per line.
//! - **Refusal.** What is at the target (looked at with `symlink_metadata`, never through a
//!   link) is replaced only if it is a real folder, writable by its owner, that is empty or
//!   holds a valid marker. Anything else, and always `/`, `$HOME`, the current folder and its
//!   ancestors, is refused: [`OutputError::Refused`], nothing written.
//! - **Atomic replacement.** The new files are written to a sibling temporary folder
//!   (`.{name}.tmp-{pid}-{nanos}-{n}`, marker first), which is then swapped with the target in
//!   one step (`renameat2(RENAME_EXCHANGE)` on Linux; `RENAME_NOREPLACE` when nothing is there):
//!   at every moment the target holds either the complete old outputs or the complete new ones.
//!   Elsewhere (or on a file system without these flags) two renames are used.
//! - **Keeping what capsim did not write.** After the swap the old folder sits at the temporary
//!   name: its entries that its marker does not list are moved into the new folder, then only
//!   the files its marker lists are deleted (and the folders that held them, once empty), then
//!   the marker and the folder itself. Nothing is ever removed recursively. Problems at this
//!   stage are warnings: the new outputs are complete.
//! - **Modes kept.** The new folder, each rewritten file and each sub-folder get the permission
//!   bits of the old one at the same relative path.
//! - **Concurrency.** The whole write holds an exclusive `flock` on the parent folder, so
//!   writers of one parent are serialised; under the lock no writer is active, so any sibling
//!   `.{name}.tmp-*` or `.{name}.old-*` is stale (a killed run) and is cleaned by the same
//!   "delete only what its marker lists" routine.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

/// The name of the marker file, at the top of every folder capsim writes.
pub const MARKER: &str = ".capsim-output";
/// The first line of a valid marker.
pub const HEADER: &str = "capsim output folder";
/// The sentence for people, second line of the marker.
const SENTENCE: &str = "# capsim wrote this folder and the files listed below. The next capsim command \
writing here replaces those files and keeps everything else; without this file capsim refuses \
to write here.";

/// Why an output folder was not written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// What is at the target may not be replaced; nothing was written.
    #[error("{path} {reason}; {advice}")]
    Refused {
        /// The target, as given.
        path: PathBuf,
        /// Why it may not be replaced.
        reason: String,
        /// What the user can do.
        advice: String,
    },
    /// A file could not be written before the swap: whatever was at the target is unchanged.
    #[error("cannot write {path}: {source}")]
    Unwritten {
        /// What was being written (a file in the temporary folder, or the target).
        path: PathBuf,
        /// Why not.
        source: io::Error,
    },
    /// Two-rename fallback only: the old folder was moved aside, the new one could not be put
    /// in place, and the old one could not be moved back.
    #[error(
        "cannot put the new outputs in place at {path}: {source}; the previous outputs were moved to {aside}"
    )]
    Displaced {
        /// The target.
        path: PathBuf,
        /// Where the previous outputs are.
        aside: PathBuf,
        /// Why not.
        source: io::Error,
    },
}

impl OutputError {
    /// Whatever was at the target before is still there, as it was.
    pub fn target_unchanged(&self) -> bool {
        !matches!(self, OutputError::Displaced { .. })
    }

    /// The target was refused (bad input) rather than failing to be written.
    pub fn is_refusal(&self) -> bool {
        matches!(self, OutputError::Refused { .. })
    }
}

/// A completed write: the new outputs are in place. `warnings` are problems met while
/// cleaning up the previous outputs (files left where they were).
#[derive(Debug, Default)]
pub struct Written {
    /// What could not be cleaned up or moved, with the paths.
    pub warnings: Vec<String>,
}

/// The marker of a folder holding `paths` (relative, `/`-separated).
pub fn render_marker<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = format!("{HEADER}\n{SENTENCE}\n");
    let mut seen = BTreeSet::new();
    for p in paths {
        if seen.insert(p) {
            out.push_str(p);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// The paths a marker lists, or `None` if `text` is not a marker (its first line is not
/// [`HEADER`]). Comment lines (`#`) and blank lines are skipped; a path that is absolute,
/// climbs (`..`) or names the marker itself is ignored, so a marker can never make capsim
/// delete anything outside its folder.
pub fn parse_marker(text: &str) -> Option<Vec<String>> {
    let mut lines = text.lines();
    if lines.next()?.trim_end_matches('\r') != HEADER {
        return None;
    }
    Some(
        lines
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty() && !l.starts_with('#') && is_safe_relative(l))
            .map(str::to_string)
            .collect(),
    )
}

/// A relative path of plain names only (no `/` at the start, no `.` or `..`), not the marker.
fn is_safe_relative(p: &str) -> bool {
    let path = Path::new(p);
    p != MARKER
        && !p.contains('\0')
        && path.components().count() > 0
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The paths listed by the marker of `dir`; `None` if it has no valid marker (none, not a
/// regular file, unreadable or without the header).
pub fn read_marker(dir: &Path) -> Option<Vec<String>> {
    let path = dir.join(MARKER);
    let meta = fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    parse_marker(&fs::read_to_string(&path).ok()?)
}

/// What was found at the target.
struct Existing {
    /// The paths its marker lists (none for an empty folder).
    listed: Vec<String>,
    /// Its identity, checked after the swap.
    #[cfg(unix)]
    id: (u64, u64),
}

/// Writes `files` (relative `/`-separated names and their bytes) as the folder `dir`,
/// following the rule of this module. `flag` names the option that chose `dir` (`--out`,
/// `--golden`), for the advice of a refusal.
pub fn write(dir: &Path, files: &[(String, Vec<u8>)], flag: &str) -> Result<Written, OutputError> {
    for (name, _) in files {
        if !is_safe_relative(name) {
            return Err(OutputError::Unwritten {
                path: dir.join(name),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path"),
            });
        }
    }
    let advice = format!(
        "choose a new or empty folder with {flag}, or move it away yourself; nothing was written"
    );
    let refuse = |reason: String| OutputError::Refused {
        path: dir.to_path_buf(),
        reason,
        advice: advice.clone(),
    };
    let (parent, name) = split(dir).ok_or_else(|| refuse("does not name a folder".into()))?;
    fs::create_dir_all(&parent).map_err(|source| OutputError::Unwritten {
        path: parent.clone(),
        source,
    })?;
    let _lock = lock(&parent).map_err(|source| OutputError::Unwritten {
        path: parent.clone(),
        source,
    })?;
    let mut warnings = Vec::new();
    clean_stale(&parent, &name, &mut warnings);
    let target = parent.join(&name);
    let existing = inspect(&target).map_err(refuse)?;
    let tmp = make_sibling(&parent, &name, "tmp").map_err(|source| OutputError::Unwritten {
        path: parent.join(format!(".{}.tmp-*", name.to_string_lossy())),
        source,
    })?;
    if let Err(e) = fill(&tmp, &target, existing.is_some(), files) {
        discard(&tmp, &mut Vec::new());
        return Err(e);
    }
    let old_at = match swap(&tmp, &target, existing.as_ref()) {
        Ok(at) => at,
        Err(SwapError::Changed) => {
            discard(&tmp, &mut Vec::new());
            return Err(refuse(
                "changed while capsim was writing (another program replaced it); run again".into(),
            ));
        }
        Err(SwapError::Io(source)) => {
            discard(&tmp, &mut Vec::new());
            return Err(OutputError::Unwritten {
                path: target,
                source,
            });
        }
        Err(SwapError::Displaced(aside, source)) => {
            discard(&tmp, &mut Vec::new());
            return Err(OutputError::Displaced {
                path: target,
                aside,
                source,
            });
        }
    };
    if let (Some(old_at), Some(existing)) = (old_at, existing) {
        retire(&old_at, &target, &existing.listed, &mut warnings);
    }
    Ok(Written { warnings })
}

/// The parent folder and the name of `dir` (`out` → `.`, `out`); a path ending in `..` is
/// resolved first. `None` for `/`.
fn split(dir: &Path) -> Option<(PathBuf, std::ffi::OsString)> {
    let resolved;
    let dir = if dir.file_name().is_none() {
        resolved = fs::canonicalize(dir).ok()?;
        resolved.as_path()
    } else {
        dir
    };
    let name = dir.file_name()?.to_os_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

/// Holds an exclusive lock on `parent` until dropped.
#[cfg(unix)]
fn lock(parent: &Path) -> io::Result<fs::File> {
    let f = fs::File::open(parent)?;
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
    Ok(f)
}

#[cfg(not(unix))]
fn lock(_parent: &Path) -> io::Result<()> {
    Ok(())
}

/// Whether what is at `target` may be replaced: `Ok(None)` if nothing is there,
/// `Ok(Some(_))` for an empty or marked folder, `Err(why not)` otherwise.
fn inspect(target: &Path) -> Result<Option<Existing>, String> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be inspected ({e})")),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        let to = fs::read_link(target)
            .map(|t| format!(" (to {})", t.display()))
            .unwrap_or_default();
        return Err(format!(
            "is a symbolic link{to}; capsim never writes through links"
        ));
    }
    if !ft.is_dir() {
        return Err(format!(
            "exists and is {}, not a folder written by capsim",
            kind(&meta)
        ));
    }
    if let Some(why) = fs::canonicalize(target).ok().and_then(|c| protected(&c)) {
        return Err(format!("{why}; capsim never replaces it"));
    }
    if read_only(&meta) {
        return Err(
            "is read-only (its owner may not write to it); capsim will not replace it".into(),
        );
    }
    let listed = match read_marker(target) {
        Some(listed) => listed,
        None => {
            let mut names: Vec<String> = fs::read_dir(target)
                .map_err(|e| format!("cannot be read ({e})"))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !names.is_empty() {
                names.sort();
                let eg = names
                    .iter()
                    .find(|n| n.as_str() != MARKER)
                    .unwrap_or(&names[0]);
                return Err(format!(
                    "exists and was not written by capsim (it has no valid {MARKER} marker): it holds {} {}, e.g. {eg}",
                    names.len(),
                    if names.len() == 1 { "entry" } else { "entries" }
                ));
            }
            Vec::new()
        }
    };
    Ok(Some(Existing {
        listed,
        #[cfg(unix)]
        id: id(&meta),
    }))
}

/// What a non-folder is, for a refusal.
fn kind(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let ft = meta.file_type();
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
    }
    if meta.is_file() {
        "a file"
    } else {
        "not a folder"
    }
}

#[cfg(unix)]
fn id(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(unix)]
fn read_only(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o200 == 0
}

#[cfg(not(unix))]
fn read_only(meta: &fs::Metadata) -> bool {
    meta.permissions().readonly()
}

/// Why the (canonical) folder `dir` may never be replaced: `/`, the home folder, the current
/// folder or one of its ancestors.
fn protected(dir: &Path) -> Option<String> {
    if dir.parent().is_none() {
        return Some("is the root folder".into());
    }
    if let Some(home) = std::env::var_os("HOME").and_then(|h| fs::canonicalize(h).ok())
        && home == dir
    {
        return Some("is your home folder".into());
    }
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize) {
        if cwd == dir {
            return Some("is the current folder".into());
        }
        if cwd.starts_with(dir) {
            return Some(format!("holds the current folder ({})", cwd.display()));
        }
    }
    None
}

/// A new sibling folder `.{name}.{what}-{pid}-{nanos}-{n}`, unique per attempt.
fn make_sibling(parent: &Path, name: &OsStr, what: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..100 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!(
            ".{}.{what}-{}-{nanos}-{n}",
            name.to_string_lossy(),
            std::process::id()
        ));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Writes the marker, then `files`, into the new folder `tmp`, with the modes of the old
/// folder's entries at the same paths.
fn fill(
    tmp: &Path,
    target: &Path,
    existed: bool,
    files: &[(String, Vec<u8>)],
) -> Result<(), OutputError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Unwritten { path, source }
    };
    let marker = tmp.join(MARKER);
    fs::write(
        &marker,
        render_marker(files.iter().map(|(n, _)| n.as_str())),
    )
    .map_err(io_err(&marker))?;
    let dirs: BTreeSet<String> = files.iter().flat_map(|(n, _)| ancestors(n)).collect();
    for d in &dirs {
        let p = tmp.join(d);
        fs::create_dir_all(&p).map_err(io_err(&p))?;
    }
    // The files side by side (the kernel's copying into the page cache is most of a write):
    // every one is attempted, and the first failure in the list's order is the one reported.
    let written: Vec<Result<(), OutputError>> = files
        .par_iter()
        .map(|(name, bytes)| {
            let path = tmp.join(name);
            fs::write(&path, bytes).map_err(io_err(&path))?;
            if existed {
                copy_mode(&target.join(name), &path, false).map_err(io_err(&path))?;
            }
            Ok(())
        })
        .collect();
    written.into_iter().collect::<Result<(), _>>()?;
    if existed {
        // Folders last, deepest first, so a read-only sub-folder is filled before it is made so.
        for d in dirs.iter().rev() {
            copy_mode(&target.join(d), &tmp.join(d), true).map_err(io_err(&tmp.join(d)))?;
        }
        copy_mode(target, tmp, true).map_err(io_err(tmp))?;
    }
    Ok(())
}

/// Gives `to` the permission bits of `from`, if `from` is a real folder (`dir`) or a regular
/// file (not `dir`).
fn copy_mode(from: &Path, to: &Path, dir: bool) -> io::Result<()> {
    match fs::symlink_metadata(from) {
        Ok(m) if (dir && m.is_dir()) || (!dir && m.is_file()) => {
            fs::set_permissions(to, m.permissions())
        }
        _ => Ok(()),
    }
}

/// The folders a relative path lies in: `a/b/c` → `a`, `a/b`.
fn ancestors(rel: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    (1..parts.len()).map(|i| parts[..i].join("/")).collect()
}

enum SwapError {
    /// The target is no longer what was inspected (swapped back; nothing changed).
    Changed,
    /// Nothing changed at the target.
    Io(io::Error),
    /// Two-rename fallback: the old folder is at the path given and could not be put back.
    Displaced(PathBuf, io::Error),
}

/// Puts `tmp` in place at `target`. Returns where the old folder now is (`None` if there was
/// none).
fn swap(
    tmp: &Path,
    target: &Path,
    existing: Option<&Existing>,
) -> Result<Option<PathBuf>, SwapError> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        let flags = if existing.is_some() {
            RenameFlags::EXCHANGE
        } else {
            RenameFlags::NOREPLACE
        };
        match renameat_with(CWD, tmp, CWD, target, flags) {
            Ok(()) => {
                let Some(existing) = existing else {
                    return Ok(None);
                };
                // What was swapped out must be the folder inspected; if someone replaced it
                // meanwhile, swap back and stop.
                let same = fs::symlink_metadata(tmp).is_ok_and(|m| id(&m) == existing.id);
                if !same {
                    return match renameat_with(CWD, tmp, CWD, target, RenameFlags::EXCHANGE) {
                        Ok(()) => Err(SwapError::Changed),
                        Err(e) => Err(SwapError::Displaced(tmp.to_path_buf(), e.into())),
                    };
                }
                return Ok(Some(tmp.to_path_buf()));
            }
            Err(e) if e == rustix::io::Errno::EXIST || e == rustix::io::Errno::NOTEMPTY => {
                return Err(SwapError::Changed);
            }
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
                // The file system does not support the flags: two renames below.
            }
            Err(e) => return Err(SwapError::Io(e.into())),
        }
    }
    two_renames(tmp, target, existing.is_some())
}

/// The fallback: the old folder renamed aside, then the new one into place (a moment with
/// nothing at the target).
fn two_renames(tmp: &Path, target: &Path, existed: bool) -> Result<Option<PathBuf>, SwapError> {
    if !existed {
        return fs::rename(tmp, target)
            .map(|()| None)
            .map_err(SwapError::Io);
    }
    let (parent, name) =
        split(target).ok_or_else(|| SwapError::Io(io::ErrorKind::InvalidInput.into()))?;
    // Reserve a unique name, then rename over the empty folder reserved.
    let aside = make_sibling(&parent, &name, "old").map_err(SwapError::Io)?;
    if let Err(e) = fs::rename(target, &aside) {
        let _ = fs::remove_dir(&aside);
        return Err(SwapError::Io(e));
    }
    match fs::rename(tmp, target) {
        Ok(()) => Ok(Some(aside)),
        Err(e) => match fs::rename(&aside, target) {
            Ok(()) => Err(SwapError::Io(e)),
            Err(_) => Err(SwapError::Displaced(aside, e)),
        },
    }
}

/// After the swap: moves what the old folder's marker does not list into the new folder,
/// then deletes what it lists.
fn retire(old: &Path, new: &Path, listed: &[String], warnings: &mut Vec<String>) {
    let files: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let made: BTreeSet<String> = listed.iter().flat_map(|p| ancestors(p)).collect();
    keep_unlisted(old, new, Path::new(""), &files, &made, warnings);
    delete_listed(old, listed, warnings);
}

/// Moves the entries under `old/rel` that capsim did not write to `new/rel`.
fn keep_unlisted(
    old: &Path,
    new: &Path,
    rel: &Path,
    files: &BTreeSet<&str>,
    made: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) {
    let entries = match fs::read_dir(old.join(rel)) {
        Ok(e) => e,
        Err(e) => {
            warnings.push(format!(
                "cannot read {} to keep what capsim did not write: {e}",
                old.join(rel).display()
            ));
            return;
        }
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        let p = rel.join(&name);
        let key = p.to_string_lossy().replace('\\', "/");
        if rel.as_os_str().is_empty() && name == MARKER {
            continue;
        }
        let Ok(om) = fs::symlink_metadata(old.join(&p)) else {
            continue;
        };
        if om.is_file() && files.contains(key.as_str()) {
            continue;
        }
        if om.is_dir() && made.contains(&key) {
            keep_unlisted(old, new, &p, files, made, warnings);
            continue;
        }
        // Not written by capsim: keep it.
        let dest = new.join(&p);
        match fs::symlink_metadata(&dest) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let moved =
                    make_parents(old, new, rel).and_then(|()| fs::rename(old.join(&p), &dest));
                if let Err(e) = moved {
                    warnings.push(format!(
                        "could not move {} (not written by capsim) into {}: {e}; it was left where it is",
                        old.join(&p).display(),
                        new.display()
                    ));
                }
            }
            Ok(nm) if nm.is_dir() && om.is_dir() => {
                // A folder of the user's that the new outputs also have (their `charts/`
                // made by hand, then written by capsim): its contents join the new one, and
                // the old shell goes once empty (`remove_dir` deletes no content), or the
                // old output folder could not be removed.
                keep_unlisted(old, new, &p, files, made, warnings);
                let _ = fs::remove_dir(old.join(&p));
            }
            _ => warnings.push(format!(
                "kept {} (not written by capsim) where it is: a new output has its name, {}",
                old.join(&p).display(),
                dest.display()
            )),
        }
    }
}

/// Creates the folders of `rel` missing in `new`, with the modes of those in `old`.
fn make_parents(old: &Path, new: &Path, rel: &Path) -> io::Result<()> {
    let mut p = PathBuf::new();
    for c in rel.components() {
        p.push(c);
        if fs::symlink_metadata(new.join(&p)).is_err() {
            fs::create_dir(new.join(&p))?;
            copy_mode(&old.join(&p), &new.join(&p), true)?;
        }
    }
    Ok(())
}

/// Deletes the files `listed` in `dir` (regular files only), the folders that held them once
/// empty, the marker, and `dir` itself if it is then empty; warns of what is left.
fn delete_listed(dir: &Path, listed: &[String], warnings: &mut Vec<String>) {
    // Side by side (freeing a file's pages is most of its deletion); warnings in list order.
    let failed: Vec<Option<String>> = listed
        .par_iter()
        .map(|p| {
            let path = dir.join(p);
            // Never through a link: a listed `charts/a.png` whose `charts` the user replaced
            // by a link to a folder of theirs names their file, not capsim's.
            if in_real_folders(dir, p)
                && fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                && let Err(e) = fs::remove_file(&path)
            {
                return Some(format!("could not delete {}: {e}", path.display()));
            }
            None
        })
        .collect();
    warnings.extend(failed.into_iter().flatten());
    let made: BTreeSet<String> = listed.iter().flat_map(|p| ancestors(p)).collect();
    // Deepest first: `a/b` sorts after `a`.
    for d in made.iter().rev() {
        let _ = fs::remove_dir(dir.join(d));
    }
    let marker = dir.join(MARKER);
    if fs::symlink_metadata(&marker).is_ok_and(|m| m.is_file()) {
        let _ = fs::remove_file(&marker);
    }
    if let Err(e) = fs::remove_dir(dir)
        && e.kind() != io::ErrorKind::NotFound
    {
        warnings.push(format!(
            "left {}: it still holds files capsim did not write ({e}); look inside and move or delete them yourself",
            dir.display()
        ));
    }
}

/// Whether every folder `rel` lies in under `dir` is a real folder, not a link.
fn in_real_folders(dir: &Path, rel: &str) -> bool {
    ancestors(rel)
        .iter()
        .all(|a| fs::symlink_metadata(dir.join(a)).is_ok_and(|m| m.is_dir()))
}

/// Removes a temporary folder this write made (its marker lists everything in it).
fn discard(tmp: &Path, warnings: &mut Vec<String>) {
    let listed = read_marker(tmp).unwrap_or_default();
    delete_listed(tmp, &listed, warnings);
}

/// Under the lock, sibling `.{name}.tmp-*` and `.{name}.old-*` folders belong to no active
/// writer: a killed run left them. Each is cleaned like an old output folder: what its marker
/// does not list (files of the user's that a run killed after its swap had not moved yet) is
/// moved into the output folder when that is a writable folder of capsim's, and left with a
/// warning otherwise.
fn clean_stale(parent: &Path, name: &OsStr, warnings: &mut Vec<String>) {
    let target = parent.join(name);
    let target_ok = fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir() && !read_only(&m))
        && read_marker(&target).is_some();
    let name = name.to_string_lossy();
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if !prefixes.iter().any(|p| n.starts_with(p.as_str())) {
            continue;
        }
        let path = e.path();
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let listed = read_marker(&path).unwrap_or_default();
        if target_ok {
            retire(&path, &target, &listed, warnings);
        } else {
            delete_listed(&path, &listed, warnings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_lists_what_was_written_once_each() {
        let m = render_marker(["summary.json", "charts/a.png", "summary.json"]);
        let text = String::from_utf8(m).expect("utf-8");
        assert!(text.starts_with("capsim output folder\n# "));
        assert_eq!(
            parse_marker(&text),
            Some(vec!["summary.json".to_string(), "charts/a.png".to_string()])
        );
    }

    #[test]
    fn a_marker_needs_its_header_and_never_names_paths_outside() {
        assert_eq!(parse_marker(""), None);
        assert_eq!(parse_marker("notes\nsummary.json\n"), None);
        assert_eq!(parse_marker(" capsim output folder\n"), None);
        let text = "capsim output folder\r\n# comment\n\n/etc/passwd\n../up\na/../b\n./x\n.capsim-output\nok.csv\r\nsub/ok.png\n";
        assert_eq!(
            parse_marker(text),
            Some(vec!["ok.csv".to_string(), "sub/ok.png".to_string()])
        );
    }

    #[test]
    fn ancestors_of_a_path_are_its_folders() {
        assert_eq!(ancestors("a.csv"), Vec::<String>::new());
        assert_eq!(ancestors("a/b/c.png"), vec!["a", "a/b"]);
    }

    #[test]
    fn split_names_parent_and_folder() {
        assert_eq!(
            split(Path::new("out")),
            Some((PathBuf::from("."), "out".into()))
        );
        assert_eq!(
            split(Path::new("/tmp/x/")),
            Some((PathBuf::from("/tmp"), "x".into()))
        );
        assert_eq!(split(Path::new("/")), None);
    }
}
