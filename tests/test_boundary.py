"""The torch package never imports streamlit: importing every ganplay module in a fresh interpreter must leave
streamlit (and the app package) out of sys.modules. The UI layer lives in ganplay_app and only it may import it."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, pkgutil, sys
import ganplay, ganplay.trainer, ganplay.checkpoint, ganplay.cli
imported = []
for info in pkgutil.walk_packages(ganplay.__path__, "ganplay."):
    if info.name == "ganplay.__main__":        # running it would start the command line
        continue
    __import__(info.name)
    imported.append(info.name)
print(json.dumps({"imported": imported,
                  "ui": sorted(m for m in sys.modules if m.split(".")[0] in ("streamlit", "ganplay_app"))}))
"""


def test_ganplay_never_imports_streamlit():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # the walk really covered the package (so an empty result below means something)
    for module in ("ganplay.trainer", "ganplay.checkpoint", "ganplay.cli", "ganplay.models.conv",
                   "ganplay.losses", "ganplay.images", "ganplay.data"):
        assert module in report["imported"]
    assert report["ui"] == [], f"ganplay imported UI modules: {report['ui']}"
