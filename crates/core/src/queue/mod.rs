//! The task queue protocol, written once as SQL in `sql/queue/`, over two transports.
