-- Who has stalled threads right now, and how overdue is the oldest customer update?
-- A thread is stalled when its owner has neither written to the customer nor rerouted it for
-- longer than the lane's stall limit ([governance] stall_after_s, 4 h by default).
-- Output: owner, lane, stalled_threads, oldest_update_due.
SELECT owner, lane, COUNT(*) AS stalled_threads, MIN(next_update_due) AS oldest_update_due
FROM board
WHERE flags LIKE '%stalled%'
GROUP BY owner, lane
ORDER BY stalled_threads DESC, oldest_update_due, owner
