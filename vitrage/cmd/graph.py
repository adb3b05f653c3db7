"""vitrage-graph: the entity graph, processor and timers."""
import cotyledon

from vitrage.graph.service import GraphWorker
from vitrage import service


def main() -> None:
    conf = service.prepare_service()
    manager = cotyledon.ServiceManager()
    manager.add(GraphWorker, workers=1, args=(conf,))
    manager.run()
