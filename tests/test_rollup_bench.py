"""`langso bench rollup` builds the synthetic province and reports its figures (no timing asserted)."""
import json

from click.testing import CliRunner

from server.cli import main


def test_bench_rollup_reports_both_sizes_as_one_json_object_last():
    result = CliRunner().invoke(main, ["bench", "rollup", "--small", "50", "--large", "5000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"households_small", "ms_small", "households_large", "ms_large"} <= set(figures)
    assert (figures["households_small"], figures["households_large"]) == (50, 5000)
    assert figures["villages"] == 218 * 9
    assert figures["ms_small"] > 0 and figures["ms_reference_large"] > 0 and figures["ratio_to_reference"] > 0


def test_bench_rollup_refuses_an_empty_province():
    result = CliRunner().invoke(main, ["bench", "rollup", "--small", "0", "--json"])
    assert result.exit_code == 2 and "at least 1 household" in result.output
