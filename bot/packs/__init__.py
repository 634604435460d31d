from .library import LoadedPack, PackLibrary
from .loader import LoadResult, Problem, load_pack_bytes, load_pack_file
from .schema import Discussion, Event, Pack, Question

__all__ = ["LoadedPack", "PackLibrary", "LoadResult", "Problem", "load_pack_bytes",
           "load_pack_file", "Discussion", "Event", "Pack", "Question"]
