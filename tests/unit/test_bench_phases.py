"""bench/run.py: row 1's figures are the medians of its repeated phases, for the relay
as for chatdesk, and the targets show each figure's spread (bench/README.md)."""

from bench import run


def phase(p99: float, cpu: float) -> dict:
    return {
        "p50": p99 / 4,
        "p99": p99,
        "cpu_ms_per_message": cpu,
        "sent": 5000,
        "received": 4999,
        "errors": 0,
    }


def test_row_one_is_the_median_of_its_phases_and_keeps_each():
    phases = [phase(30.0, 1.20), phase(12.0, 0.80), phase(14.0, 0.90)]
    fixed = run.median_phase(phases)
    assert (fixed["p99"], fixed["cpu_ms_per_message"]) == (14.0, 0.90)
    assert fixed["p99_range"] == [12.0, 30.0]
    assert fixed["phases"] == phases
    assert (fixed["sent"], fixed["received"]) == (15000, 14997)


def test_the_targets_compare_medians_and_show_the_spread():
    results = {
        "bare": {
            "rates": {"fixed": run.median_phase([phase(4.0, 0.55), phase(4.0, 0.65), phase(4.0, 0.60)])}
        },
        "pg": {
            "rates": {"fixed": run.median_phase([phase(20.0, 0.85), phase(40.0, 1.30), phase(22.0, 0.90)])}
        },
    }
    verdicts = {v.label: v for v in run.gate(results, run.FULL)}
    cpu = verdicts["server CPU per message, PostgreSQL"]
    assert cpu.passed is True  # 0.90 ≤ 1.6 × 0.60; the worst phase alone (1.30) would miss
    assert cpu.measured == "0.90 ms [0.85–1.30] = 1.50× bare (0.60 ms [0.55–0.65])"
    p99 = verdicts["p99 at 500 msg/s, 1000 visitors, PostgreSQL, 1 process"]
    assert p99.passed is True and p99.measured.startswith("22.0 ms [20.0–40.0]")


def test_a_column_run_in_turn_with_the_relay_is_compared_with_those_relay_phases():
    """The relay's own column ran minutes apart: a column whose phases alternated with the
    relay's is compared with those, and the Telegram column with PostgreSQL's each against
    its own relay phases."""
    slow_relay = run.median_phase([phase(4.0, 0.70)])  # its column, in a slower minute
    pg = run.median_phase([phase(20.0, 0.90), phase(20.0, 1.00), phase(20.0, 0.95)])
    pg["relay"] = run.median_phase([phase(4.0, 0.50), phase(4.0, 0.55), phase(4.0, 0.60)])
    bridge = run.median_phase([phase(20.0, 1.30), phase(20.0, 1.35), phase(20.0, 1.40)])
    bridge["relay"] = run.median_phase([phase(4.0, 0.70), phase(4.0, 0.75), phase(4.0, 0.80)])
    results = {
        "bare": {"rates": {"fixed": slow_relay}},
        "pg": {"rates": {"fixed": pg}},
        "pg_telegram": {"rates": {"fixed": bridge}},
    }
    verdicts = {v.label: v for v in run.gate(results, run.FULL)}
    cpu = verdicts["server CPU per message, PostgreSQL"]
    assert cpu.passed is False  # 0.95 / 0.55 = 1.73×; against the relay's column, 1.36×
    assert cpu.measured == "0.95 ms [0.90–1.00] = 1.73× bare (0.55 ms [0.50–0.60], in turn)"
    telegram = verdicts["server CPU per message, PostgreSQL with the Telegram bridge on"]
    assert telegram.passed is True  # 1.35 / 0.75 = 1.80× against 1.73×; 1.35 / 0.95 alone = 1.42×
    assert telegram.measured.endswith(": 1.04×")
