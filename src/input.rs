//! Reading the user's files (scenarios, local figures, seeds): only regular files, and no more
//! than a size limit, so that a device (`/dev/zero`), a FIFO or a huge file is a clear error
//! (exit code 2) instead of a hang or an exhausted memory.

use crate::error::InputError;
use std::io::Read;
use std::path::Path;

/// The largest scenario file (the bundled ones are under 20 KiB).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;
/// The largest local figures file (every council, figure and year takes under 1 MiB).
pub const MAX_LOCAL_BYTES: u64 = 4 << 20;
/// The largest seeds table (the largest shipped, `caseload.csv`, is 1.4 MiB).
pub const MAX_SEED_BYTES: u64 = 64 << 20;

/// The bytes of `path`, which must be a regular file (or a link to one) of at most `limit`
/// bytes. The type is checked before the file is opened, since opening a FIFO waits for a
/// writer.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let unreadable = |source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let not_regular = || {
        InputError::invalid(
            path,
            "is not a regular file (a folder, device, FIFO or socket): give the path of a file",
        )
    };
    let too_large = |bytes: u64| {
        InputError::invalid(
            path,
            format!("is {bytes} bytes, larger than this kind of file may be ({limit} bytes)"),
        )
    };
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    if metadata.len() > limit {
        return Err(too_large(metadata.len()));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // The path may have been replaced between the two looks.
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The text of `path` (UTF-8), read as [`read_regular`] reads it.
pub fn read_text(path: &Path, limit: u64) -> Result<String, InputError> {
    String::from_utf8(read_regular(path, limit)?).map_err(|e| {
        InputError::invalid(
            path,
            format!(
                "is not UTF-8 text (byte {} is not): save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "name = \"a\"\n").unwrap();
        assert_eq!(read_text(&file, 100).unwrap(), "name = \"a\"\n");
        let error = read_text(&file, 5).unwrap_err().to_string();
        assert!(error.contains("is 11 bytes, larger than"), "{error}");
        let error = read_text(dir.path(), 100).unwrap_err().to_string();
        assert!(error.contains("is not a regular file"), "{error}");
        std::fs::write(&file, [b'a', 0xff, b'b']).unwrap();
        let error = read_text(&file, 100).unwrap_err().to_string();
        assert!(error.contains("is not UTF-8 text (byte 1"), "{error}");
    }
}
