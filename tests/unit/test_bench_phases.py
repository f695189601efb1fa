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
