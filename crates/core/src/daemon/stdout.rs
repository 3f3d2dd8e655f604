//! Printing a command's result to standard output. A closed pipe (`orchestrator schema |
//! head`) is not an error: the reader has what it wanted.

use std::io::Write;

/// Standard output could not be written (other than a closed pipe).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
pub struct StdoutError(#[source] pub std::io::Error);

/// Prints `text` and a newline, flushed.
pub fn print_stdout(text: &str) -> Result<(), StdoutError> {
    write_line(&mut std::io::stdout().lock(), text)
}

/// Writes `text` and a newline to `out` and flushes; a broken pipe counts as written.
pub fn write_line(out: &mut impl Write, text: &str) -> Result<(), StdoutError> {
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(StdoutError(error)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind`.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_and_a_closed_pipe_is_not_an_error() {
        let mut out = Vec::new();
        write_line(&mut out, "done").expect("written");
        assert_eq!(out, b"done\n");
        assert!(write_line(&mut Failing(std::io::ErrorKind::BrokenPipe), "x").is_ok());
        let error = write_line(&mut Failing(std::io::ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(error.to_string(), "cannot write to standard output");
    }
}
