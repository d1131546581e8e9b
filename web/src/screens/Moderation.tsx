// The moderators' queue: pending and rejected threads, oldest first, with
// approve and reject.
import { useState } from "react";
import { api, ApiError, type Thread } from "../api/client";
import { ErrorNote, Field, LoadMore, Loading, StatusBadge, When } from "../components/ui";
import { usePaged } from "../hooks";
import { href } from "../router";

export function ModerationScreen() {
  const [status, setStatus] = useState<"pending" | "rejected">("pending");
  const queue = usePaged((cursor, signal) => api.queue(status, cursor, signal), [status]);
  return (
    <>
      <h1>Moderation</h1>
      <div className="segmented" role="group" aria-label="Queue">
        <button type="button" aria-pressed={status === "pending"} onClick={() => setStatus("pending")}>
          Awaiting moderation
        </button>
        <button type="button" aria-pressed={status === "rejected"} onClick={() => setStatus("rejected")}>
          Rejected
        </button>
      </div>
      {queue.loading && queue.items.length === 0 && <Loading what="the queue" />}
      <ErrorNote error={queue.error} />
      {!queue.loading && !queue.error && queue.items.length === 0 && <p className="empty">Nothing here: the queue is empty.</p>}
      <ul className="queue" aria-label={status === "pending" ? "Threads awaiting moderation" : "Rejected threads"}>
        {queue.items.map((t) => (
          <li key={t.thread_id}>
            <QueueItem thread={t} onDecided={queue.reload} />
          </li>
        ))}
      </ul>
      <LoadMore more={queue.more} loading={queue.loading} onMore={queue.loadMore} />
    </>
  );
}

function QueueItem({ thread, onDecided }: { thread: Thread; onDecided: () => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const decide = async (status: "approved" | "rejected") => {
    setBusy(true);
    setError(null);
    try {
      await api.moderate(thread.thread_id, status, status === "rejected" && reason.trim() ? reason.trim() : undefined);
      onDecided();
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };
  const author = thread.author_name ?? thread.author;
  return (
    <article className="card queue-item" aria-label={`${thread.thread_type.toLowerCase()} by ${author}`}>
      <header className="thread-head">
        <span className={`kind kind-${thread.thread_type.toLowerCase()}`}>{thread.thread_type.toLowerCase()}</span>
        {thread.parent_thread_id && <span className="muted">reply</span>}
        <span className="author">{author}</span>
        <When at={thread.edited_at ?? thread.created_at} />
        <StatusBadge thread={thread} />
      </header>
      <p className="message">{thread.message}</p>
      <p className="meta">
        <a href={href(`/projects/${thread.project_id}`)}>Open its project</a>
      </p>
      <div className="decide">
        <button type="button" className="button" disabled={busy} onClick={() => decide("approved")}>
          Approve
        </button>
        {thread.status === "pending" && (
          <>
            <Field label="Reason (optional)">
              {(a) => <input {...a} value={reason} onChange={(e) => setReason(e.target.value)} />}
            </Field>
            <button type="button" className="button danger" disabled={busy} onClick={() => decide("rejected")}>
              Reject
            </button>
          </>
        )}
      </div>
      <ErrorNote error={error} />
    </article>
  );
}
