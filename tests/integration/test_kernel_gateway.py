"""Scale-out path: learner kernels on a Jupyter Kernel Gateway on loopback (TUTOR_KERNEL_GATEWAY_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_for_http
from tools.kernel import KernelService

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    port = free_port()
    jupyter = str(Path(sys.executable).parent / "jupyter")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path_factory.mktemp("gw-home"))}
    proc = subprocess.Popen(
        [jupyter, "kernelgateway", "--KernelGatewayApp.ip=127.0.0.1", f"--KernelGatewayApp.port={port}",
         "--JupyterWebsocketPersonality.list_kernels=True"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    if not wait_for_http(url + "/api", 60):
        proc.kill()
        pytest.fail("kernel gateway did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_gateway_kernels_run_code_keep_state_and_recover(gateway, tmp_path):
    service = KernelService(root=tmp_path, pool_size=1, gateway_url=gateway)
    try:
        assert service.run("g1", "x = 20").status == "ok"
        r = service.run("g1", "print(x * 2)")
        assert (r.status, r.stdout) == ("ok", "40\n")
        assert service.run("g2", "print('x' in globals())").stdout == "False\n"
        r = service.run("g1", "while True: pass", timeout=2)
        assert r.status == "timeout"
        assert service.run("g1", "print(x)").stdout == "20\n"
        r = service.run("g1", "import os; os._exit(1)")
        assert r.status == "died"
        assert service.run("g1", "print('fresh')").stdout == "fresh\n"
        kernels = httpx.get(gateway + "/api/kernels", timeout=5).json()
        assert isinstance(kernels, list) and len(kernels) >= 2  # the kernels really live on the gateway
    finally:
        service.shutdown()
    assert httpx.get(gateway + "/api/kernels", timeout=5).json() == []
