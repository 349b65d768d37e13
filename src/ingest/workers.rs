//! Threads that parse for every table validated at the same time: one per core, whatever the
//! number of tables, so that the chunks in flight (and the memory they hold) do not grow with
//! the tables.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

/// A piece of work; it reports its result through a channel of its own.
pub type Task<'s> = Box<dyn FnOnce() + Send + 's>;

/// A handle on the threads; they stop once every handle is dropped.
#[derive(Clone)]
pub struct Workers<'s> {
    tasks: SyncSender<Task<'s>>,
}

impl<'s> Workers<'s> {
    /// Starts one thread per core in `scope`.
    pub fn start<'e>(scope: &'s Scope<'s, 'e>) -> Workers<'s> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let (tasks, queue) = sync_channel::<Task<'s>>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            scope.spawn(move || work(&queue));
        }
        Workers { tasks }
    }

    /// Queues `task`, waiting while the queue is full; false once the threads have stopped.
    pub fn run(&self, task: Task<'s>) -> bool {
        self.tasks.send(task).is_ok()
    }
}

fn work(queue: &Mutex<Receiver<Task<'_>>>) {
    loop {
        let task = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(task) = task else {
            return;
        };
        // A task that panics drops its result channel, which its reader reports; the thread
        // goes on with the next task.
        let _ = catch_unwind(AssertUnwindSafe(task));
    }
}
