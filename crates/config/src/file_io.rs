//! Reading optional files and replacing files atomically.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::ConfigError;

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `None` when the file (or a parent directory) does not exist: every layer
/// is optional.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Writes via a temporary file in the same directory and a rename, so a crash
/// or a full disk never leaves a half-written config. The existing file's
/// permissions are kept, and a symlinked file (dotfile managers) is updated
/// at its target rather than replaced by a regular file.
pub fn write_atomically(path: &Path, contents: &str) -> Result<(), ConfigError> {
    let target: PathBuf = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(io_error(path))?
        }
        _ => path.to_path_buf(),
    };
    let err = io_error(&target);
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(&err)?;
    let mut tmp = NamedTempFile::new_in(dir).map_err(&err)?;
    tmp.write_all(contents.as_bytes()).map_err(&err)?;
    match fs::metadata(&target) {
        Ok(meta) => tmp
            .as_file()
            .set_permissions(meta.permissions())
            .map_err(&err)?,
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    tmp.as_file().sync_all().map_err(&err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_none() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read_optional(&tmp.path().join("nope.toml")).unwrap(), None);
        fs::write(tmp.path().join("file"), "x").unwrap();
        assert_eq!(read_optional(&tmp.path().join("file/below")).unwrap(), None);
    }

    #[test]
    fn unreadable_path_is_io_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = read_optional(tmp.path()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Io { path, .. } if path == tmp.path()),
            "{err:?}"
        );
    }

    #[test]
    fn writes_create_parents_and_leave_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/config.toml");
        write_atomically(&path, "x = 1\n").unwrap();
        write_atomically(&path, "x = 2\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "x = 2\n");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn write_under_a_file_is_io_error() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("blocker"), "").unwrap();
        let err = write_atomically(&tmp.path().join("blocker/config.toml"), "").unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_follows_symlinks() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("dotfiles/config.toml");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = tmp.path().join("config.toml");
        symlink(&real, &link).unwrap();
        write_atomically(&link, "new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
}
