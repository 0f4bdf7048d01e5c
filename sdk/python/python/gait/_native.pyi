"""Types of the native module (the runtime's gate, built with PyO3)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

_Answer = Tuple[bytes, int, str, List[str], Optional[str]]

MAX_INTENT_BYTES: int
RUNTIME_VERSION: str

class BundleRejected(Exception):
    """args: (code, message)."""

class NativeGate:
    def __init__(
        self,
        bundle_path: Union[str, PathLike[str]],
        trust: List[Union[str, PathLike[str]]],
        pin: Optional[str] = None,
        min_revision: Optional[int] = None,
        decision_timeout_ms: Optional[int] = None,
    ) -> None: ...
    def evaluate(self, intent: Any) -> _Answer: ...
    def reload(self) -> Dict[str, Any]: ...
    def policy(self) -> Dict[str, Any]: ...

def encode_intent(intent: Any) -> bytes: ...
def invalid_intent(message: str) -> _Answer: ...
def intent_digest(text: bytes) -> Optional[str]: ...
