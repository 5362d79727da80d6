"""The two processes of a code-grading run, each in its own sandbox; standalone (stdlib, numpy if used).

`learner` executes the submission and serves its functions and objects; `tests` executes the hidden
tests, which see the learner's names as proxies. Values cross the pipe by value as JSON (plain types,
containers, numpy arrays), everything else as a reference the owner resolves, exceptions as (class,
args). So the tests process never runs a line of learner code, no frame of it is reachable from the
submission, and its exit status is the verdict: 0 pass, 1 fail, 2 the submission did not load.

Run as `python -I -c <this file's text> learner|tests READ_FD WRITE_FD`, with the code on stdin.
"""

import base64
import builtins
import contextlib
import json
import os
import sys

MAX_LINE = 256 * 1024 * 1024
PLAIN = (bool, int, float, complex, str, bytes)
ALLOWED_DUNDERS = ("__len__", "__getitem__", "__contains__", "__iter__")


class PeerGone(Exception):
    """The other process exited (or wrote nothing we can read)."""


class Proxy:
    """An object owned by the other process; every use is a request to it."""

    __slots__ = ("_id", "_peer")

    def __init__(self, peer, ident):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_id", ident)

    def __call__(self, *args, **kwargs):
        return self._peer.call(self._id, "__call__", args, kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._peer.decode(self._peer.request({"op": "getattr", "id": self._id, "name": name})["value"])

    def __setattr__(self, name, value):
        raise AttributeError("objects of the other side are read-only")

    def __len__(self):
        return self._peer.call(self._id, "__len__", (), {})

    def __getitem__(self, key):
        return self._peer.call(self._id, "__getitem__", (key,), {})

    def __contains__(self, item):
        return self._peer.call(self._id, "__contains__", (item,), {})

    def __iter__(self):
        return iter(self._peer.call(self._id, "__iter__", (), {}))

    def __bool__(self):
        if self._peer.side == "tests":
            raise TypeError("return plain values: objects of your own class are not accepted here")
        return True

    def __repr__(self):
        return "<object of the other side>"


class Peer:
    def __init__(self, side, read_fd, write_fd):
        self.side = side
        self.rf = os.fdopen(read_fd, "rb")
        self.wf = os.fdopen(write_fd, "wb")
        self.objects = {}
        self.proxies = {}
        self.stubs = {}

    # ------------------------------------------------------------ transport

    def send(self, msg):
        self.wf.write(json.dumps(msg).encode() + b"\n")
        self.wf.flush()

    def recv(self):
        line = self.rf.readline(MAX_LINE)
        if not line:
            raise PeerGone()
        try:
            return json.loads(line)
        except ValueError:
            raise PeerGone() from None

    def request(self, msg):
        self.send(msg)
        while True:
            reply = self.recv()
            if reply.get("op") != "reply":
                self.serve_one(reply)
                continue
            if "error" in reply:
                raise self.decode(reply["error"])
            return reply

    def call(self, ident, method, args, kwargs):
        reply = self.request({"op": "call", "id": ident, "method": method, "args": self.encode(list(args)),
                              "kwargs": self.encode(dict(kwargs))})  # fmt: skip
        for original, after in zip(list(args) + list(kwargs.values()), reply.get("after", []), strict=False):
            _restore(original, self.decode(after))  # copy-restore: in-place changes to plain arguments
        return self.decode(reply["value"])

    def serve_one(self, msg):
        try:
            obj = self.objects[msg["id"]]
            if msg["op"] == "getattr":
                if msg["name"].startswith("_"):
                    raise AttributeError(msg["name"])
                self.send({"op": "reply", "value": self.encode(getattr(obj, msg["name"]))})
                return
            method = msg["method"]
            if method != "__call__" and method not in ALLOWED_DUNDERS:
                raise AttributeError(method)
            args, kwargs = self.decode(msg["args"]), self.decode(msg["kwargs"])
            if method == "__call__":
                value = obj(*args, **kwargs)
            elif method == "__iter__":
                value = list(obj)
            else:
                value = getattr(obj, method)(*args, **kwargs)
            after = [self.encode(a) for a in list(args) + list(kwargs.values())]
            self.send({"op": "reply", "value": self.encode(value), "after": after})
        except PeerGone:
            raise
        except BaseException as exc:
            self.send({"op": "reply", "error": self.encode(exc)})

    def serve_forever(self):
        while True:
            self.serve_one(self.recv())

    # ------------------------------------------------------------ values

    def ref(self, obj):
        ident = id(obj)
        self.objects[ident] = obj
        return ident

    def encode(self, v):
        if isinstance(v, Proxy):
            return {"ref": v._id, "owner": "peer"}
        if v is None:
            return None
        for base in PLAIN:
            if isinstance(v, base):
                v = base(v) if type(v) is not base else v
                if base is bytes:
                    return {"b": base64.b64encode(v).decode()}
                if base is complex:
                    return {"c": [v.real, v.imag]}
                return v if base is not int or abs(v) < 2**53 else {"i": str(v)}
        if isinstance(v, (list, tuple, set, frozenset)):
            kind = {list: "l", tuple: "t", set: "s", frozenset: "f"}[next(k for k in (list, tuple, set, frozenset)
                                                                         if isinstance(v, k))]  # fmt: skip
            return {kind: [self.encode(x) for x in v]}
        if isinstance(v, dict):
            return {"d": [[self.encode(k), self.encode(x)] for k, x in v.items()]}
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(v, numpy.ndarray) and v.dtype.kind in "biufcSU?":
            data = numpy.ascontiguousarray(v).view(numpy.ndarray)
            return {"nd": data.dtype.str, "shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}
        if numpy is not None and isinstance(v, numpy.generic) and v.dtype.kind in "biufc?":
            return {"ns": v.dtype.str, "data": base64.b64encode(numpy.asarray(v).tobytes()).decode()}
        if isinstance(v, BaseException):
            return {"exc": self.encode_class(type(v)), "args": [self.encode(a) for a in v.args]}
        if isinstance(v, type) and issubclass(v, BaseException):
            return {"cls": self.encode_class(v)}
        return {"ref": self.ref(v), "owner": "sender"}

    def encode_class(self, cls):
        stub_of = self.stubs_by_class().get(cls)
        if stub_of is not None:
            return {"ref": stub_of, "owner": "peer"}
        if cls.__module__ == "builtins":
            return {"builtin": cls.__name__}
        base = next(b for b in cls.__mro__ if b.__module__ == "builtins")
        return {"ref": self.ref(cls), "owner": "sender", "name": cls.__name__, "base": base.__name__}

    def stubs_by_class(self):
        return {stub: ident for ident, stub in self.stubs.items()}

    def decode(self, v):
        if not isinstance(v, dict):
            return v
        if "ref" in v:
            if v["owner"] == "peer":  # one of ours, coming back
                return self.objects[v["ref"]]
            proxy = self.proxies.get(v["ref"])
            if proxy is None:
                proxy = self.proxies[v["ref"]] = Proxy(self, v["ref"])
            return proxy
        if "b" in v:
            return base64.b64decode(v["b"])
        if "c" in v:
            return complex(*v["c"])
        if "i" in v:
            return int(v["i"])
        for kind, make in (("l", list), ("t", tuple), ("s", set), ("f", frozenset)):
            if kind in v:
                return make(self.decode(x) for x in v[kind])
        if "d" in v:
            return {self.decode(k): self.decode(x) for k, x in v["d"]}
        if "nd" in v or "ns" in v:
            import numpy

            raw = base64.b64decode(v["data"])
            if "nd" in v:
                return numpy.frombuffer(raw, dtype=numpy.dtype(v["nd"])).reshape(v["shape"]).copy()
            return numpy.frombuffer(raw, dtype=numpy.dtype(v["ns"]))[0]
        if "exc" in v:
            cls = self.decode_class(v["exc"])
            return cls(*[self.decode(a) for a in v["args"]])
        if "cls" in v:
            return self.decode_class(v["cls"])
        raise ValueError("unknown value")

    def decode_class(self, c):
        if "builtin" in c:
            cls = getattr(builtins, c["builtin"], None)
            return cls if isinstance(cls, type) and issubclass(cls, BaseException) else Exception
        if c["owner"] == "peer":
            return self.objects.get(c["ref"]) or self.stubs[c["ref"]]
        if c["ref"] not in self.stubs:  # a local stand-in class: raising and catching it runs no foreign code
            base = getattr(builtins, c.get("base", "Exception"), Exception)
            base = base if isinstance(base, type) and issubclass(base, BaseException) else Exception
            self.stubs[c["ref"]] = type(str(c.get("name", "Error")), (base,), {})
        return self.stubs[c["ref"]]


def _restore(original, after):
    """Apply the callee's in-place changes to an argument that crossed by value."""
    try:
        if type(original) is list and isinstance(after, list):
            original[:] = after
        elif (type(original) is dict and isinstance(after, dict)) or (type(original) is set and isinstance(after, set)):
            original.clear()
            original.update(after)
        elif type(original).__name__ == "ndarray" and getattr(after, "shape", None) == original.shape:
            original[...] = after
    except Exception:
        pass


def _short(exc):
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def main_learner(peer, code):
    namespace = {"__name__": "__learner__", "__builtins__": builtins}
    try:
        exec(compile(code, "<your code>", "exec"), namespace)
    except BaseException as exc:
        peer.send({"op": "loaded", "error": _short(exc)})
        return
    names = {k: v for k, v in namespace.items() if not k.startswith("__") and type(v).__name__ != "module"}
    peer.send({"op": "loaded", "names": {k: peer.encode(v) for k, v in names.items()}})
    with contextlib.suppress(PeerGone):
        peer.serve_forever()


def main_tests(peer, tests):
    try:
        loaded = peer.recv()
        if loaded.get("op") != "loaded":
            raise PeerGone()
    except PeerGone:
        print("error: your code exited before defining anything")
        return 2
    if "error" in loaded:
        print("error: " + str(loaded["error"])[:400])
        return 2
    namespace = {k: peer.decode(v) for k, v in loaded["names"].items()}
    namespace["__builtins__"] = builtins
    namespace["__name__"] = "__hidden_tests__"
    try:
        exec(compile(tests, "<hidden tests>", "exec"), namespace)
    except AssertionError as exc:
        print("fail: a hidden test failed" + (": " + str(exc)[:200] if str(exc) else ""))
        return 1
    except PeerGone:
        print("fail: your code exited or crashed during the tests")
        return 1
    except BaseException as exc:
        print("fail: " + _short(exc))
        return 1
    print("pass")
    return 0


def main():
    role, read_fd, write_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    source = sys.stdin.read()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - nothing more to read there
    peer = Peer(role, read_fd, write_fd)
    if role == "learner":
        main_learner(peer, source)
        os._exit(0)
    sys.stdout.flush()
    code = main_tests(peer, source)
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
