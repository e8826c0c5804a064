"""Free loopback ports."""
import socket


def free_port(host="127.0.0.1", kind=socket.SOCK_STREAM):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_on_all(hosts, kinds=(socket.SOCK_STREAM,), attempts=50):
    """A port number that is free on every host in `hosts` for every socket kind in `kinds` (checked by binding)."""
    for _ in range(attempts):
        port = free_port(hosts[0], kinds[0])
        held = []
        try:
            for host in hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                for kind in kinds:
                    s = socket.socket(family, kind)
                    held.append(s)
                    s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError(f"no port free on all of {hosts}")


def wait_for_port(host, port, timeout=10.0, proc=None):
    """Wait until a TCP connect to host:port succeeds; fail early if `proc` exited."""
    import time
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {host}:{port} opened")
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{host}:{port} did not open within {timeout}s")
            time.sleep(0.05)
