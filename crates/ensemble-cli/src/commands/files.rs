//! `ensemble analyse`, `score` and `instrument`: file commands, run without the async runtime
//! or a database because they are pure computation.

use crate::{AnalyseCommand, Format, InstrumentCommand, agreement, analyse, score};

/// File analyses run without the async runtime: they are pure computation.
pub(crate) fn run_analyse(cmd: AnalyseCommand) -> std::process::ExitCode {
    let (file, before, after, format) = match cmd {
        AnalyseCommand::Paired {
            file,
            before,
            after,
            format,
        } => (file, before, after, format),
        AnalyseCommand::Agreement {
            file,
            first,
            second,
            format,
        } => return run_agreement(&file, &first, &second, format),
    };
    let outcome = analyse::read_input(&file)
        .and_then(|data| analyse::read_pairs(&data, &before, &after))
        .and_then(|pairs| analyse::analyse(&pairs).map(|r| (r, pairs.dropped)));
    match outcome {
        Ok((result, dropped)) => {
            let text = match format {
                Format::Json => format!("{}\n", analyse::to_json(&result, dropped)),
                Format::Table => analyse::to_table(&result, dropped, &before, &after),
            };
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut stdout, text.as_bytes());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run_agreement(
    file: &std::path::Path,
    first: &str,
    second: &str,
    format: Format,
) -> std::process::ExitCode {
    let outcome = analyse::read_input(file)
        .and_then(|data| agreement::read_codings(&data, first, second))
        .and_then(|c| agreement::analyse(&c).map(|a| (a, c.dropped)));
    match outcome {
        Ok((a, dropped)) => {
            let text = match format {
                Format::Json => format!("{}\n", agreement::to_json(&a, dropped)),
                Format::Table => agreement::to_table(&a, dropped, first, second),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = std::io::Write::write_all(&mut stdout, text.as_bytes());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

pub(crate) fn run_score(
    instrument: &str,
    file: &std::path::Path,
    output: Option<&std::path::Path>,
) -> std::process::ExitCode {
    let outcome = score::load_instrument(instrument).and_then(|d| {
        let data = analyse::read_input(file)?;
        score::score_file(&d, &data)
    });
    match outcome {
        Ok((csv, scored, refused)) => {
            let written = match output {
                Some(path) => std::fs::write(path, &csv)
                    .map_err(|e| format!("could not write {}: {e}", path.display())),
                None => {
                    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &csv);
                    Ok(())
                }
            };
            if let Err(e) = written {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(1);
            }
            eprintln!("{scored} rows scored, {refused} could not be scored");
            if refused > 0 && scored == 0 {
                std::process::ExitCode::from(1)
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

pub(crate) fn run_instrument(cmd: InstrumentCommand) -> std::process::ExitCode {
    match cmd {
        InstrumentCommand::Check { file } => {
            match score::load_instrument(&file.to_string_lossy()) {
                Ok(d) => {
                    println!(
                        "{}: {} ({}), {} questions, {} scores — valid",
                        file.display(),
                        d.name,
                        d.key(),
                        d.items.len(),
                        d.scores.len()
                    );
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::ExitCode::from(1)
                }
            }
        }
        InstrumentCommand::Show { id } => {
            match ensemble::modules::measures::definition::builtin(&id) {
                Some(d) => {
                    let text = serde_json::to_string_pretty(d).unwrap_or_default();
                    let _ = std::io::Write::write_all(
                        &mut std::io::stdout().lock(),
                        format!("{text}\n").as_bytes(),
                    );
                    std::process::ExitCode::SUCCESS
                }
                None => {
                    eprintln!("error: no built-in instrument \"{id}\"");
                    std::process::ExitCode::from(1)
                }
            }
        }
    }
}
