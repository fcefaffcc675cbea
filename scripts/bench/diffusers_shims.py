"""The smallest shims that let diffusers' own OvisImageTransformer2DModel import and run on Debian's torch 1.13.

Imported by train_throughput_torch.py before diffusers. The shims stand in for packages diffusers imports but the
transformer's forward and backward never call (the Hub client, accelerate, safetensors, tqdm, filelock, regex), for
`packaging.version` (diffusers compares version strings at import time), and for the torch 2 names torch 1.13 lacks.
Two of them compute part of the model, each written as torch 2 computes it:
  * F.scaled_dot_product_attention (torch 2.0) as torch's own math path (`_scaled_dot_product_attention_math`):
    softmax(q·kᵀ·scale)·v in the input dtype, which autograd differentiates like any composition of ops. torch 2 on
    CPU would pick a fused flash-attention kernel instead: same values, less memory, likely faster.
  * nn.RMSNorm (torch 2.4), the module diffusers uses for the per-head q/k norms and the text-embedding norm:
    x / sqrt(mean(x²) + eps), in float32 for reduced-precision inputs, then times the weight, as ATen's rms_norm.

What each shim is for (found by importing diffusers 58eb52c on torch 1.13.1 / Python 3.11 and fixing the first
error, repeatedly):
  * huggingface_hub, accelerate, safetensors, tqdm, filelock, regex: modules whose every attribute is an inert
    placeholder (a class that can be called, subclassed and tested; it does nothing); a few constants diffusers
    reads at import time get real values (_VALUES). Only used when the real package is not importable.
  * packaging.version: Version/parse over dotted release numbers with an optional pre/dev/post suffix
    (what diffusers' is_torch_version and its dependency checks compare). Only when packaging is missing.
  * diffusers.dependency_versions_check: a no-op (it asserts that the packages above are installed).
  * diffusers.models.transformers: registered as an empty package, so that importing transformer_ovis_image does
    not import the 70 other transformers of diffusers (and their own dependencies).
  * torch: nn.RMSNorm and F.scaled_dot_product_attention (above); the xpu and mps device modules (diffusers lists
    their functions in tables); float8 and uint16..uint64 dtype names (placeholders, never used here);
    torch.compiler.is_compiling/disable and torch.library.custom_op/register_fake (decorators returning the
    function unchanged); torch.distributed._functional_collectives, .device_mesh and .tensor (context parallelism,
    read at import time only).
"""
import importlib.abc
import importlib.machinery
import importlib.util
import math
import re
import sys
import types

STUBBED = []  # names of the packages replaced by placeholders, for the report


class _Inert:
    """A placeholder value: callable, subclassable, attribute access yields another placeholder, false."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


class _InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert


# Placeholders that must be real values because diffusers uses them at import time.
_VALUES = {
    "huggingface_hub.constants": {"HF_HOME": "/tmp/hf-home-unused", "HF_HUB_OFFLINE": True,
                                  "HF_HUB_DISABLE_TELEMETRY": True},
    "huggingface_hub.file_download": {"REGEX_COMMIT_HASH": re.compile(r"^[0-9a-f]{40}$")},
}


class _InertFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots):
        self.roots = set(roots)

    def find_spec(self, name, path, target=None):
        if any(name == r or name.startswith(r + ".") for r in self.roots):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _InertModule(spec.name)
        m.__path__ = []
        m.__dict__.update(_VALUES.get(spec.name, {}))
        return m

    def exec_module(self, module):
        pass


_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|rc|alpha|beta|c)[-_.]?(\d*))?"
                      r"(?:[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+[a-z0-9.]+)?\s*$", re.I)


class InvalidVersion(ValueError):
    pass


class Version:
    """PEP 440 versions as far as diffusers needs them: release, pre-release, post and dev parts, ordered."""

    def __init__(self, text):
        m = _VERSION.match(str(text))
        if not m:
            raise InvalidVersion(text)
        self.release = tuple(int(x) for x in m.group(1).split("."))
        pre = {"alpha": "a", "beta": "b", "c": "rc"}.get((m.group(2) or "").lower(), (m.group(2) or "").lower())
        self.pre = (pre, int(m.group(3) or 0)) if pre else None
        self.post = int(m.group(5) or 0) if m.group(4) else None
        self.dev = int(m.group(7) or 0) if m.group(6) else None
        self.base_version = ".".join(str(x) for x in self.release)
        self.major, self.minor, self.micro = (self.release + (0, 0, 0))[:3]
        self.is_prerelease = self.pre is not None or self.dev is not None
        self.is_devrelease = self.dev is not None
        self._text = str(text)

    def _key(self):
        rel = self.release
        while len(rel) > 1 and rel[-1] == 0:
            rel = rel[:-1]
        order = {"a": 0, "b": 1, "rc": 2}
        # a dev release sorts before its pre-releases and its final release, as in PEP 440
        pre = (-2, 0) if self.pre is None and self.dev is not None and self.post is None else (
            (order[self.pre[0]] - 3, self.pre[1]) if self.pre else (0, 0))
        post = (-1,) if self.post is None else (self.post,)
        dev = (math.inf,) if self.dev is None else (self.dev,)
        return rel, pre, post, dev

    def __lt__(self, o): return self._key() < _v(o)._key()
    def __le__(self, o): return self._key() <= _v(o)._key()
    def __gt__(self, o): return self._key() > _v(o)._key()
    def __ge__(self, o): return self._key() >= _v(o)._key()
    def __eq__(self, o): return self._key() == _v(o)._key()
    def __ne__(self, o): return self._key() != _v(o)._key()
    def __hash__(self): return hash(self._key())
    def __str__(self): return self._text
    def __repr__(self): return "<Version(%r)>" % self._text


def _v(o):
    return o if isinstance(o, Version) else Version(o)


def _install_packaging():
    if importlib.util.find_spec("packaging") is not None:
        return
    pkg = types.ModuleType("packaging")
    pkg.__path__ = []
    ver = types.ModuleType("packaging.version")
    ver.Version, ver.parse, ver.InvalidVersion = Version, Version, InvalidVersion
    pkg.version = ver
    sys.modules["packaging"], sys.modules["packaging.version"] = pkg, ver
    STUBBED.append("packaging (version only)")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """torch 2's F.scaled_dot_product_attention, math path: softmax(q·kᵀ·scale [+ mask])·v; [..., L, E] layout."""
    import torch
    if dropout_p != 0.0 or is_causal or enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention shim: dropout, causal and GQA are not needed here")
    s = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    scores = torch.matmul(query, key.transpose(-2, -1)) * s
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else scores + attn_mask
    return torch.matmul(torch.softmax(scores, dim=-1), value)


def _rms_norm_module(torch):
    class RMSNorm(torch.nn.Module):
        """torch 2.4's nn.RMSNorm: y = x / sqrt(mean(x², last dims) + eps) · weight, the normalisation computed in
        float32 for reduced-precision inputs and cast back (as ATen's rms_norm does), then times the weight."""

        def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
            super().__init__()
            if isinstance(normalized_shape, int):
                normalized_shape = (normalized_shape,)
            self.normalized_shape = tuple(normalized_shape)
            self.eps = eps
            self.elementwise_affine = elementwise_affine
            if elementwise_affine:
                self.weight = torch.nn.Parameter(torch.ones(self.normalized_shape, device=device, dtype=dtype))
            else:
                self.register_parameter("weight", None)

        def forward(self, x):
            dims = tuple(range(-len(self.normalized_shape), 0))
            eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
            up = x.float()
            y = (up * torch.rsqrt(up.pow(2).mean(dims, keepdim=True) + eps)).type_as(x)
            return y * self.weight if self.weight is not None else y

    return RMSNorm


def _install_torch():
    import torch
    import torch.nn.functional as F
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
                 "uint16", "uint32", "uint64"):
        if not hasattr(torch, name):
            setattr(torch, name, _Inert())
    for name in ("xpu", "mps"):  # device back-ends diffusers lists in tables; never called on CPU
        if not hasattr(torch, name):
            setattr(torch, name, _InertModule("torch." + name))
    if not hasattr(torch.nn, "RMSNorm"):
        torch.nn.RMSNorm = _rms_norm_module(torch)
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = scaled_dot_product_attention
    if not hasattr(torch, "compiler"):
        torch.compiler = types.ModuleType("torch.compiler")
        sys.modules["torch.compiler"] = torch.compiler
    if not hasattr(torch.compiler, "is_compiling"):
        torch.compiler.is_compiling = lambda: False
    if not hasattr(torch.compiler, "disable"):
        torch.compiler.disable = lambda fn=None, recursive=True: (fn if fn is not None else (lambda f: f))
    lib = torch.library
    if not hasattr(lib, "custom_op"):
        def custom_op(name, fn=None, mutates_args=(), device_types=None, schema=None):
            return fn if fn is not None else (lambda f: f)
        lib.custom_op = custom_op
    if not hasattr(lib, "register_fake"):
        lib.register_fake = lambda name, fn=None, **kw: (fn if fn is not None else (lambda f: f))


def _missing(name):
    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:
        return True


def install(diffusers_src):
    """Installs every shim, then puts diffusers' src folder first on sys.path."""
    roots = [r for r in ("huggingface_hub", "accelerate", "safetensors", "tqdm", "filelock", "regex",
                         "torch.distributed._functional_collectives", "torch.distributed.device_mesh",
                         "torch.distributed.tensor") if _missing(r)]
    STUBBED.extend(roots)
    if roots:
        sys.meta_path.insert(0, _InertFinder(roots))
    for r in roots:  # torch submodules are also read as attributes of their parent (type annotations)
        if r.startswith("torch."):
            parent, _, leaf = r.rpartition(".")
            setattr(importlib.import_module(parent), leaf, importlib.import_module(r))
    _install_packaging()
    _install_torch()
    check = types.ModuleType("diffusers.dependency_versions_check")
    check.dep_version_check = lambda pkg, hint=None: None
    sys.modules["diffusers.dependency_versions_check"] = check
    sys.path.insert(0, str(diffusers_src))
    # diffusers.models.transformers' __init__ imports every transformer diffusers has (70 files, each with its
    # own imports); the package is registered empty so that only transformer_ovis_image.py is read.
    transformers = types.ModuleType("diffusers.models.transformers")
    transformers.__path__ = [str(diffusers_src) + "/diffusers/models/transformers"]
    sys.modules["diffusers.models.transformers"] = transformers
