"""Fail CI when an eval metric falls under its threshold: python evals/gate.py THRESHOLDS REPORT_DIR."""

import json
import sys
from pathlib import Path


def check(thresholds: dict, report_dir: Path) -> list[str]:
    failures = []
    for report_name, limits in thresholds.items():
        path = report_dir / f"{report_name}.json"
        if not path.exists():
            failures.append(f"{path} is missing")
            continue
        metrics = json.loads(path.read_text())
        for metric, limit in limits.items():
            value = metrics.get(metric)
            worse = value is None or (value > limit["max"] if "max" in limit else value < limit["min"])
            bound = f"<= {limit['max']}" if "max" in limit else f">= {limit['min']}"
            print(f"{'FAIL' if worse else 'ok  '} {report_name}.{metric} = {value} (needs {bound})")
            if worse:
                failures.append(f"{report_name}.{metric}")
    return failures


if __name__ == "__main__":
    failed = check(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
    if failed:
        print("eval gate failed: " + ", ".join(failed))
        sys.exit(1)
    print("eval gate passed")
