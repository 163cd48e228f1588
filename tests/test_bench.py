"""``lms-gateway bench`` at the CI smoke size: it finishes and writes both reports.

Timings are never asserted (they depend on the machine); call counts are deterministic, so
the gateway must make exactly the TalentLMS v1 minimum for every queries/ operation.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.bench.benchmark import (
    MODELS,
    QUERIES_DIR,
    BenchConfig,
    add_bench_arguments,
    count_fields,
    render_svg,
    run_bench,
    run_benchmark,
)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    output = tmp_path_factory.mktemp("bench")
    report = run_benchmark(BenchConfig.quick_config(output), stream=io.StringIO())
    return report, output


@pytest.mark.http
@pytest.mark.slow
def test_writes_json_markdown_and_chart(quick_report: tuple[dict[str, Any], Path]) -> None:
    report, output = quick_report
    on_disk = json.loads((output / "report.json").read_text(encoding="utf-8"))
    assert on_disk["headline"] == json.loads(json.dumps(report["headline"]))
    assert set(on_disk) >= {
        "config",
        "environment",
        "operations",
        "size_series",
        "throughput",
        "memory",
        "headline",
    }
    markdown = (output / "report.md").read_text(encoding="utf-8")
    for heading in ("## Upstream calls", "## Latency", "## CPU", "## Throughput", "size"):
        assert heading in markdown
    assert "not measured (run with --workers 2)" in markdown
    svg = (output / "chart.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<polyline" in svg


@pytest.mark.http
def test_every_queries_operation_is_benchmarked(quick_report: tuple[dict[str, Any], Path]) -> None:
    report, _ = quick_report
    names = [row["name"] for row in report["operations"]]
    assert names == sorted(path.stem for path in QUERIES_DIR.glob("*.graphql"))
    for row in report["operations"]:
        assert row["fields"] > 0
        assert set(row["latency"]) >= {"p50_ms", "p95_ms", "critical_path_ms", "depth"}
        assert set(row["cpu"]) == {"gateway_us_per_field", "graphql_core_us_per_field", "ratio"}


@pytest.mark.http
def test_calls_are_the_minimum_and_never_above_naive(
    quick_report: tuple[dict[str, Any], Path],
) -> None:
    report, _ = quick_report
    for row in report["operations"] + report["size_series"]:
        calls = row["calls"]
        if row["name"] in MODELS or row["name"].startswith("dashboard["):
            assert calls["measured"] == calls["minimum"], row["name"]
            assert calls["naive_computed"] >= calls["measured"], row["name"]
        assert sum(calls["by_endpoint"].values()) == calls["measured"]
    head = report["headline"]
    assert head["operations_at_minimum_calls"] == head["operations_with_a_minimum"]


@pytest.mark.http
def test_dashboard_calls_follow_the_data(quick_report: tuple[dict[str, Any], Path]) -> None:
    report, _ = quick_report
    dashboard = next(r for r in report["operations"] if r["name"] == "learner_dashboard")
    by_endpoint = dashboard["calls"]["by_endpoint"]
    # 1 users page + 5 users/id + one courses/id per distinct course: the quick portal has 4.
    assert by_endpoint == {"users": 1, "users/id": 5, "courses/id": 4}
    assert dashboard["latency"]["depth"] == 3
    series = report["size_series"]
    assert [r["first"] for r in series] == sorted(r["first"] for r in series)
    assert series[-1]["fields"] > series[0]["fields"]


@pytest.mark.http
def test_throughput_one_worker_measured(quick_report: tuple[dict[str, Any], Path]) -> None:
    report, _ = quick_report
    one = report["throughput"]["workers_1"]
    assert one["measured"] and one["requests"] > 0 and one["failed"] == 0
    assert report["throughput"]["workers_2"]["measured"] is False


@pytest.mark.unit
def test_count_fields_counts_objects_and_leaves() -> None:
    assert count_fields({"a": 1, "b": {"c": [{"d": 1}, {"d": 2}]}}) == 5


@pytest.mark.unit
def test_render_svg_survives_a_single_point() -> None:
    assert "<polyline" in render_svg([(0.0, 0.0)], "x", "y", "t")


@pytest.mark.http
@pytest.mark.slow
def test_cli_options_and_quick_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    defaults = parser.parse_args([])
    assert (defaults.latency_ms, defaults.iterations, defaults.concurrency) == (50.0, 20, 8)
    assert (defaults.output, defaults.workers, defaults.quick) == (Path("bench-report"), 1, False)
    args = parser.parse_args(["--quick", "--output", str(tmp_path / "out")])
    assert run_bench(args) == 0
    assert (tmp_path / "out" / "report.json").is_file()
    assert "report in" in capsys.readouterr().err


@pytest.mark.http
@pytest.mark.slow
def test_memory_soak_reports_rss_growth(tmp_path):
    from gateway.bench.benchmark import add_bench_arguments, run_bench

    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = parser.parse_args(
        ["--quick", "--soak", "1", "--soak-clients", "2", "--output", str(tmp_path)]
    )
    assert run_bench(args) == 0
    soak = json.loads((tmp_path / "report.json").read_text())["memory"]["soak"]
    assert soak["measured"] and soak["failed"] == 0 and soak["requests"] > 0
    assert len(soak["rss_kib_samples"]) == 7 and soak["rss_growth_percent"] is not None
    assert "Memory soak (2 clients" in (tmp_path / "report.md").read_text()


@pytest.mark.unit
def test_simulator_subprocess_serves_the_configured_portal(monkeypatch):
    """The latency run's upstream is its own process, configured from the environment."""
    from gateway.bench.benchmark import SIMULATOR_ENV, bench_simulator_app

    config = BenchConfig(users=9, courses=3, latency_ms=50.0)
    monkeypatch.setenv(SIMULATOR_ENV, config.simulator_env()[SIMULATOR_ENV])
    simulator = bench_simulator_app().state.config
    assert (simulator.users, simulator.courses, simulator.latency_ms) == (9, 3, 50.0)
    settings = config.portal_settings("http://127.0.0.1:9")
    assert settings["TALENTLMS_BASE_URL"] == "http://127.0.0.1:9/api/v1"
    assert settings["TALENTLMS_API_KEY"] == simulator.api_key
