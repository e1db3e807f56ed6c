//! `timeseries.csv`, the daily table: one row a day, `date` first, the numeric columns, then
//! the text columns. Formatted from a finished run ([`timeseries_csv`]), or while the run goes
//! on ([`simulate_with_timeseries`]), with `ledger.csv` beside it: the same bytes either way
//! (a test compares them).
//!
//! The table is most of a run's output (about 127,000 numbers for the default scenario) and
//! formatting it took as long as half the simulation; the ledger (about 8,800 rows) was then
//! what was left after it. Formatted while the run goes on, on the second core, both are
//! ready when the last day is recorded instead of after.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use super::{ReportError, csvout, ledger};
use crate::format::Shortest;
use crate::model::{self, DayRow, LedgerRow, RunOutput};
use crate::scenario::types::Scenario;

/// Appends the header: `date`, the numeric columns, the text columns.
fn push_header(out: &mut Vec<u8>, columns: &[String], text_columns: &[String]) {
    csvout::field(out, "date");
    for name in columns.iter().chain(text_columns) {
        out.push(b',');
        csvout::field(out, name);
    }
    out.push(b'\n');
}

/// Appends one day's row.
fn push_row(out: &mut Vec<u8>, buf: &mut Shortest, date: &str, values: &[f64], text: &[&str]) {
    csvout::field(out, date);
    for &v in values {
        out.push(b',');
        csvout::num(out, buf, v);
    }
    for t in text {
        out.push(b',');
        csvout::field(out, t);
    }
    out.push(b'\n');
}

/// `timeseries.csv` of a finished run.
///
/// Written straight into bytes (`csvout`), the same bytes as the `csv` crate's writer; blocks
/// of rows are formatted in parallel and joined in order.
pub fn timeseries_csv(run: &RunOutput) -> Result<Vec<u8>, ReportError> {
    Ok(format_run(run))
}

/// [`timeseries_csv`]'s bytes (formatting cannot fail).
fn format_run(run: &RunOutput) -> Vec<u8> {
    use rayon::prelude::*;
    /// Rows formatted by one task.
    const ROWS_PER_TASK: usize = 128;
    let mut out = Vec::new();
    push_header(&mut out, &run.columns, &run.text_columns);
    let n = run.columns.len();
    let m = run.text_columns.len();
    let starts: Vec<usize> = (0..run.dates.len()).step_by(ROWS_PER_TASK).collect();
    let blocks: Vec<Vec<u8>> = starts
        .into_par_iter()
        .map(|start| {
            let end = (start + ROWS_PER_TASK).min(run.dates.len());
            let mut out = Vec::with_capacity((end - start) * (n + m + 1) * 8);
            let mut buf = Shortest::new();
            for row in start..end {
                push_row(
                    &mut out,
                    &mut buf,
                    &run.dates[row],
                    &run.values[row * n..(row + 1) * n],
                    &run.text_values[row * m..(row + 1) * m],
                );
            }
            out
        })
        .collect();
    out.reserve(blocks.iter().map(Vec::len).sum());
    for b in blocks {
        out.extend_from_slice(&b);
    }
    out
}

/// Rows a block carries from the simulation to the thread formatting them: about 30 KB of
/// values for the default scenario, so that a block is formatted while it is still in the
/// cache and the table is done a few dozen rows after the run.
const ROWS_PER_BLOCK: usize = 32;

/// Recorded rows on their way to be formatted: consecutive days.
struct Block {
    /// The rows' dates, one after the other, and where each ends in `dates`.
    dates: String,
    date_ends: Vec<usize>,
    /// Numeric values, row by row.
    values: Vec<f64>,
    /// Text values, row by row.
    text: Vec<&'static str>,
    /// Ledger rows written on the rows' days, and where each day's rows end in `ledger`.
    ledger: Vec<LedgerRow>,
    ledger_ends: Vec<usize>,
}

impl Block {
    /// Rows in the block.
    fn rows(&self) -> usize {
        self.date_ends.len()
    }
}

/// A run's `timeseries.csv` and `ledger.csv`, as [`timeseries_csv`] and
/// [`ledger::ledger_csv`] make them.
#[derive(Debug)]
pub struct Tables {
    /// `timeseries.csv`.
    pub timeseries: Vec<u8>,
    /// `ledger.csv`.
    pub ledger: Vec<u8>,
}

/// What the simulation sends to the formatting task.
enum Message {
    /// The header, before the first row, the most bytes a row can take, and the numbers
    /// in a row.
    Header {
        header: Vec<u8>,
        row_bound: usize,
        columns: usize,
    },
    /// Rows.
    Rows(Block),
}

/// A run simulated with [`simulate_with_timeseries`].
#[derive(Debug)]
pub struct Tabled {
    /// The run.
    pub run: RunOutput,
    /// Its `timeseries.csv` and `ledger.csv`.
    pub tables: Tables,
    /// How long the simulation took (with the handing over of its rows; without starting
    /// the pool's threads or formatting what is left after the last day): the figure
    /// `capsim run` prints as "simulated in".
    pub simulated: Duration,
}

/// Simulates replication `replication` of `s` (as [`model::simulate_replication`]) and
/// formats its `timeseries.csv` and `ledger.csv` while it runs: the recorded rows and the
/// day's ledger rows go in blocks to a task on rayon's pool, which formats them as the
/// simulation goes on. Returns the run and the bytes [`timeseries_csv`] and
/// [`ledger::ledger_csv`] give of it. With one thread in the pool (`--jobs 1`) both are
/// formatted after the run; so is the ledger if a ledger row ever came dated another day
/// than the one just recorded (the model writes none).
///
/// The simulation runs on a thread of the pool (`rayon::scope`), the formatting task on
/// another, waiting for rows. Nothing the simulation calls may wait on rayon
/// work (`join`, `scope`, parallel iterators): a thread waiting there takes other jobs, and
/// could take the formatting task, which would then wait for rows that only its own thread
/// can send. The model uses no rayon.
pub fn simulate_with_timeseries(s: &Scenario, seed: u64, replication: u64) -> Tabled {
    if rayon::current_num_threads() < 2 {
        let started = Instant::now();
        let run = model::simulate_replication(s, seed, replication);
        let simulated = started.elapsed();
        let tables = Tables {
            timeseries: format_run(&run),
            ledger: ledger::ledger_csv(s, &run).expect("formatting cannot fail"),
        };
        return Tabled {
            run,
            tables,
            simulated,
        };
    }
    let days = usize::try_from(s.days).unwrap_or(0);
    let (rows_tx, rows_rx) = mpsc::channel::<Message>();
    let (spare_tx, spare_rx) = mpsc::channel::<Block>();
    let mut formatted = (Vec::new(), Vec::new());
    let room = model::Room::default();
    let (run, ledger_sent, simulated) = rayon::scope(|scope| {
        let formatted = &mut formatted;
        let room = &room;
        scope.spawn(move |_| *formatted = format_blocks(s, &rows_rx, &spare_tx, days, room));
        let started = Instant::now();
        let mut sender = RowSender {
            rows: rows_tx,
            spare: spare_rx,
            block: None,
            header_sent: false,
            ledger_sent: Some(0),
        };
        let run =
            model::simulate_observed_with_room(s, seed, replication, room, |row| sender.add(row));
        sender.flush();
        // `sender` (and with it the channel) is dropped here: the formatting ends.
        (run, sender.ledger_sent, started.elapsed())
    });
    let (mut timeseries, mut ledger) = formatted;
    // A run without a day has no row to carry its header.
    if timeseries.is_empty() {
        push_header(&mut timeseries, &run.columns, &run.text_columns);
    }
    // Every ledger row of the run went with its day, or the ledger is written again.
    if ledger_sent != Some(run.ledger.len()) {
        ledger = ledger::ledger_csv(s, &run).expect("formatting cannot fail");
    }
    Tabled {
        run,
        tables: Tables { timeseries, ledger },
        simulated,
    }
}

/// The simulation's end of the channel: fills blocks with rows and sends them.
struct RowSender {
    rows: Sender<Message>,
    /// Blocks the formatting task is done with, to be filled again.
    spare: Receiver<Block>,
    /// The block being filled.
    block: Option<Block>,
    header_sent: bool,
    /// Ledger rows sent so far; `None` once a row came dated another day than the one being
    /// recorded (the ledger is then written after the run).
    ledger_sent: Option<usize>,
}

impl RowSender {
    /// Adds a day's row (the days come in order); sends the block when it is full.
    fn add(&mut self, row: DayRow<'_>) {
        if !self.header_sent {
            let mut header = Vec::new();
            push_header(&mut header, row.columns, row.text_columns);
            // A date, each number in its longest form and each text column's longest value,
            // each after its comma, and the line's end.
            let row_bound = row.date.len()
                + row.values.len() * (1 + csvout::NUM_MAX_LEN)
                + row.text.len() * (1 + model::TEXT_VALUE_MAX_LEN)
                + 1;
            // The receiving end lives as long as this (it only ends with a panic, which the
            // scope passes on).
            let _ = self.rows.send(Message::Header {
                header,
                row_bound,
                columns: row.values.len(),
            });
            self.header_sent = true;
        }
        let block = self.block.get_or_insert_with(|| {
            self.spare.try_recv().unwrap_or_else(|_| Block {
                dates: String::with_capacity(ROWS_PER_BLOCK * (row.date.len() + 1)),
                date_ends: Vec::with_capacity(ROWS_PER_BLOCK),
                values: Vec::with_capacity(ROWS_PER_BLOCK * row.values.len()),
                text: Vec::with_capacity(ROWS_PER_BLOCK * row.text.len()),
                ledger: Vec::new(),
                ledger_ends: Vec::with_capacity(ROWS_PER_BLOCK),
            })
        });
        block.dates.push_str(row.date);
        block.date_ends.push(block.dates.len());
        block.values.extend_from_slice(row.values);
        block.text.extend_from_slice(row.text);
        if let Some(sent) = self.ledger_sent {
            let new = &row.ledger[sent..];
            if new.iter().all(|l| l.day == row.day) {
                block.ledger.extend_from_slice(new);
                self.ledger_sent = Some(row.ledger.len());
            } else {
                self.ledger_sent = None;
            }
        }
        block.ledger_ends.push(block.ledger.len());
        if block.rows() == ROWS_PER_BLOCK {
            self.flush();
        }
    }

    /// Sends the block being filled, if it holds a row.
    fn flush(&mut self) {
        if let Some(block) = self.block.take().filter(|b| b.rows() > 0) {
            let _ = self.rows.send(Message::Rows(block));
        }
    }
}

/// Polls for a block this many times (a few milliseconds) before waiting on the channel.
const SPINS: u32 = 200_000;

/// The next message, or `None` once the simulation's end is dropped. The task polls rather
/// than sleeps between blocks: a block comes every 0.1 ms or so, and waking a sleeping thread
/// costs the sending one a system call (and, on a virtual machine, an interrupt to the idle
/// core), which slowed the simulation by 0.6 ms a run (docs/performance.md, fourth round).
/// Its core is otherwise idle while the simulation runs; after [`SPINS`] polls without a
/// block it waits as usual.
fn next_message(received: &Receiver<Message>) -> Option<Message> {
    for _ in 0..SPINS {
        match received.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    received.recv().ok()
}

/// Formats the blocks received until the simulation's end of the channel is dropped, and
/// sends each block back emptied; returns the daily table (of a run of `days` days) and the
/// ledger.
///
/// Each is given its room once, before the first row, for as many bytes as its rows can
/// take (address space only: a page is touched as it is written; if the system will not
/// lend that much, the buffer grows as it is filled). Buffers grown as they filled were
/// moved while the simulation ran, and that slowed the simulation on the other core by as
/// much as the formatting saved (docs/performance.md, fifth round).
///
/// It also makes the run's [`model::Room`], while it waits for rows: the table's when the
/// header comes (its size is then known), the ledger's once a quarter of the days are
/// formatted, touched for twice the rows that the rate so far gives for the whole run
/// (capped at what the run reserves): the rows come faster as products launch (the built-in
/// scenario writes 55 in its first month, about 400 a month in its third year).
fn format_blocks(
    s: &Scenario,
    received: &Receiver<Message>,
    spares: &Sender<Block>,
    days: usize,
    room: &model::Room,
) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let mut buf = Shortest::new();
    let names = ledger::Names::new(s);
    let mut ledger_out = Vec::new();
    // Refused (more address space than the system lends), the buffer grows as it is filled.
    let _ = ledger_out.try_reserve_exact(ledger::bound(s, &names, days));
    ledger_out.extend_from_slice(ledger::HEADER);
    let (mut days_done, mut ledger_rows, mut ledger_room_given) = (0, 0, false);
    while let Some(message) = next_message(received) {
        let mut block = match message {
            Message::Header {
                header,
                row_bound,
                columns,
            } => {
                out = Vec::new();
                let _ = out
                    .try_reserve_exact(days.saturating_mul(row_bound).saturating_add(header.len()));
                out.extend_from_slice(&header);
                room.give_table(days.saturating_mul(columns));
                continue;
            }
            Message::Rows(block) => block,
        };
        days_done += block.rows();
        ledger_rows += block.ledger.len();
        if !ledger_room_given && days_done >= days / 4 {
            ledger_room_given = true;
            let expected = ledger_rows.saturating_mul(days) / days_done.max(1);
            room.give_ledger(model::ledger_capacity(s), expected.saturating_mul(2));
        }
        let rows = block.rows();
        let n = block.values.len() / rows;
        let m = block.text.len() / rows;
        let (mut from, mut ledger_from) = (0, 0);
        for (i, (&to, &ledger_to)) in block.date_ends.iter().zip(&block.ledger_ends).enumerate() {
            let date = &block.dates[from..to];
            push_row(
                &mut out,
                &mut buf,
                date,
                &block.values[i * n..(i + 1) * n],
                &block.text[i * m..(i + 1) * m],
            );
            for l in &block.ledger[ledger_from..ledger_to] {
                csvout::field(&mut ledger_out, date);
                ledger::push_after_date(&mut ledger_out, &mut buf, &names, l);
            }
            (from, ledger_from) = (to, ledger_to);
        }
        block.dates.clear();
        block.date_ends.clear();
        block.values.clear();
        block.text.clear();
        block.ledger.clear();
        block.ledger_ends.clear();
        // Nobody may take it back once the run is over.
        let _ = spares.send(block);
    }
    (out, ledger_out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::{Source, load};

    /// The run and its table as `simulate_with_timeseries` makes them, against the run of
    /// `simulate_replication` and the table `timeseries_csv` makes of it.
    fn same_as_after_the_run(s: &Scenario, seed: u64, replication: u64) {
        let Tabled { run, tables, .. } = simulate_with_timeseries(s, seed, replication);
        let Tables {
            timeseries: table,
            ledger,
        } = tables;
        let plain = model::simulate_replication(s, seed, replication);
        let expected = timeseries_csv(&plain).expect("formats");
        assert!(
            table == expected,
            "{} replication {replication}: the table formatted during the run differs",
            s.name
        );
        assert!(plain.ledger.len() > 100, "{}: a ledger to compare", s.name);
        assert!(
            ledger == ledger::ledger_csv(s, &plain).expect("formats"),
            "{} replication {replication}: the ledger written during the run differs",
            s.name
        );
        assert_eq!(run.values.len(), plain.values.len());
        assert!(
            run.values
                .iter()
                .zip(&plain.values)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "the run's values changed"
        );
        assert_eq!(run.text_values, plain.text_values);
        assert_eq!(run.ledger, plain.ledger);
        assert_eq!(run.events, plain.events);
    }

    #[test]
    fn the_table_formatted_during_the_run_is_the_table_of_the_run() {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let s = &loaded.scenario;
        let days = usize::try_from(s.days).expect("days");
        assert!(
            days > 4 * ROWS_PER_BLOCK && days % ROWS_PER_BLOCK != 0,
            "several blocks, the last one partial"
        );
        same_as_after_the_run(s, s.seed, 0);
        // Text columns, an export rule, reservations, and distributions drawn per replication.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for (file, replication) in [("baseline.yaml", 0), ("uncertain.yaml", 3)] {
            let loaded = load(Source::File(&dir.join(file)), &[]).expect("loads");
            let s = loaded
                .replication(loaded.scenario.seed, replication)
                .expect("draws");
            same_as_after_the_run(&s, loaded.scenario.seed, replication);
        }
    }

    #[test]
    fn pools_of_one_and_two_threads_give_the_same_table() {
        // One thread (`--jobs 1`): the table is formatted after the run. Two: beside it,
        // whatever the machine's cores.
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let s = &loaded.scenario;
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            pool.install(|| same_as_after_the_run(s, s.seed, 0));
        }
    }

    #[test]
    fn a_run_of_one_day_has_its_header_and_row() {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let mut s = loaded.scenario.clone();
        s.days = 1;
        let Tabled { run, tables, .. } = simulate_with_timeseries(&s, s.seed, 0);
        let Tables {
            timeseries: table,
            ledger,
        } = tables;
        assert_eq!(table, timeseries_csv(&run).expect("formats"));
        assert_eq!(table.iter().filter(|&&b| b == b'\n').count(), 2);
        assert_eq!(ledger, ledger::ledger_csv(&s, &run).expect("formats"));
    }

    /// A ledger row dated another day than the one recorded stops the ledger going with the
    /// rows: it is then written after the run, from the run.
    #[test]
    fn a_ledger_row_of_another_day_is_left_to_after_the_run() {
        let (rows, _received) = mpsc::channel();
        let (_spare_tx, spare) = mpsc::channel();
        let mut sender = RowSender {
            rows,
            spare,
            block: None,
            header_sent: false,
            ledger_sent: Some(0),
        };
        let columns = ["a".to_string()];
        let row = |day, ledger| DayRow {
            day,
            date: "2023-01-01",
            columns: &columns,
            text_columns: &[],
            values: &[1.0],
            text: &[],
            ledger,
        };
        let l = |day| LedgerRow {
            day,
            vendor: 0,
            product: 0,
            buyer: 0,
            units: 1,
            rule: "floor".into(),
            price_usd: 1.0,
        };
        let ledger = [l(0), l(1), l(0)];
        sender.add(row(0, &ledger[..1]));
        sender.add(row(1, &ledger[..2]));
        assert_eq!(sender.ledger_sent, Some(2));
        sender.add(row(2, &ledger[..3]));
        assert_eq!(sender.ledger_sent, None);
        sender.add(row(3, &ledger[..3]));
        assert_eq!(sender.ledger_sent, None);
        assert_eq!(sender.block.as_ref().map(|b| b.ledger.len()), Some(2));
    }

    /// A run too long for the buffers' room to be lent (here: more than the address space)
    /// is formatted all the same, its buffers grown as they are filled.
    #[test]
    fn room_refused_is_room_grown() {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let s = &loaded.scenario;
        let (rows, received) = mpsc::channel();
        let (spare, _spares) = mpsc::channel();
        let mut header = Vec::new();
        push_header(&mut header, &["a".to_string()], &[]);
        rows.send(Message::Header {
            header,
            row_bound: usize::MAX / 4,
            columns: 1,
        })
        .unwrap();
        rows.send(Message::Rows(Block {
            dates: "2023-01-01".into(),
            date_ends: vec![10],
            values: vec![1.5],
            text: Vec::new(),
            ledger: Vec::new(),
            ledger_ends: vec![0],
        }))
        .unwrap();
        drop(rows);
        let room = model::Room::default();
        let (table, ledger) = format_blocks(s, &received, &spare, usize::MAX / 2, &room);
        assert_eq!(table, b"date,a\n2023-01-01,1.5\n");
        assert_eq!(ledger, ledger::HEADER);
    }
}
