// Generated from query-api's OpenAPI document (GET /openapi.json) by
// scripts/api-types.mjs: do not edit; run `npm run api:types -- <command-api URL> <query-api URL>`.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness. */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/feed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The projects carrying a tag the caller follows, newest first, hidden
         *     ones left out.
         * @description Paging neither repeats nor skips a project while projects are proposed:
         *     it pages by the proposal's stream sequence, like `sort=new`.
         */
        get: operations["feed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/followed-tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tags the caller follows. */
        get: operations["followed_tags"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/hidden": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The projects the caller hid, most recently hidden first. */
        get: operations["hidden"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The projects the caller proposed, newest first.
         * @description Paging with `next_cursor` neither repeats nor skips a project while
         *     projects are proposed: new ones come before the first page.
         */
        get: operations["my_projects"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/threads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The threads and replies the caller wrote, newest first, with their
         *     messages and moderation reasons.
         * @description In any status (or the one given); withdrawn ones are left out. Paging
         *     neither repeats nor skips a thread while threads are started.
         */
        get: operations["my_threads"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics. */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/moderation/threads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The moderation queue: threads waiting for a decision (`pending`) or
         *     rejected, oldest first, with their messages and reasons.
         * @description A decision moves a thread out of one queue and into the other (or out of
         *     both when approved); an edited thread joins the end of the pending
         *     queue. Paging neither repeats nor skips a thread that stays in the queue.
         */
        get: operations["queue"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document. */
        get: operations["openapi_json"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Lists projects: newest, most voted or most active first.
         * @description Filtered by tags (all must match) and a search over names and taglines.
         *     Paging with `next_cursor` never repeats a project and never leaves out one
         *     that existed when the first page was read, while projects and votes arrive.
         */
        get: operations["list_projects"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/{project_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A project, with its proposer. */
        get: operations["get_project"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/{project_id}/threads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Lists a project's top-level threads. */
        get: operations["list_threads"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness. */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/recommendations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recommended projects ("recommended posts based on topics").
         * @description Signed in: projects carrying a tag the caller follows, neither their own
         *     nor hidden by them, highest `score` first (ties: newest first); when
         *     fewer than `limit` match, filled with the highest-scored other projects
         *     under the same exclusions. Anonymous: the highest-scored projects.
         */
        get: operations["recommendations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every tag with the number of projects carrying it, most used first. */
        get: operations["list_tags"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/threads/{thread_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A thread, with its replies. */
        get: operations["get_thread"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/threads/{thread_id}/replies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Lists a thread's replies, oldest first: paging reaches every one.
         * @description Withdrawn replies are left out. Replies that arrive while paging come
         *     after the ones already shown: paging neither repeats nor skips one.
         */
        get: operations["list_replies"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description A vote: `none` withdraws it (no vote).
         * @enum {string}
         */
        Direction: "up" | "down" | "none";
        /** @description One bad field, query parameter or header. */
        FieldError: {
            /** @description The field (e.g. `tags[2]`), query parameter (e.g. `tag[1]`) or header (`Idempotency-Key`). */
            field: string;
            message: string;
        };
        /** @description The tags a reader follows. */
        FollowedTags: {
            tags: string[];
        };
        /** @description An error, as `application/problem+json`. */
        Problem: {
            detail: string;
            /** @description Every bad field (validation errors only). */
            errors?: components["schemas"]["FieldError"][] | null;
            /** Format: int32 */
            status: number;
            title: string;
            /** @description A URI reference naming the kind of problem, e.g. `/problems/validation-error`. */
            type: string;
        };
        /** @description A project with its proposer. */
        ProjectDetail: components["schemas"]["ProjectSummary"] & {
            /** @description The user id of the proposer. */
            proposer: string;
        };
        /** @description A page of projects. */
        ProjectPage: {
            items: components["schemas"]["ProjectSummary"][];
            /** @description Give this as `cursor` for the next page; `null` on the last page. */
            next_cursor?: string | null;
        };
        /** @description A project as listed. */
        ProjectSummary: {
            /**
             * Format: int64
             * @description Top-level COMMENT threads, likewise.
             */
            comment_count: number;
            /** @description RFC 3339. */
            created_at: string;
            /**
             * @description When a thread of the project was last started, edited or voted on, or
             *     the project proposed (RFC 3339; the key of `sort=active`).
             */
            last_activity_at?: string | null;
            /**
             * Format: int64
             * @description Top-level PROBLEM threads (what `GET /projects/{id}/threads?type=PROBLEM` pages through).
             */
            problem_count: number;
            /** Format: uuid */
            project_id: string;
            project_name: string;
            /** @description The `name` claim of the proposer's token; `null` when it had none. */
            proposer_name?: string | null;
            /**
             * Format: int64
             * @description The sum over the project's threads that are neither rejected nor
             *     withdrawn of `up_vote - down_vote` (the key of `sort=top`).
             */
            score: number;
            /**
             * Format: int64
             * @description Top-level SOLUTION threads, likewise.
             */
            solution_count: number;
            tagline: string;
            /** @description Lower-cased, at most 10. */
            tags: string[];
            /**
             * Format: int64
             * @description Every thread of the project, replies included; withdrawn ones left out.
             */
            thread_count: number;
        };
        /** @description A page of recommendations (no cursor: the best `limit`). */
        Recommendations: {
            items: components["schemas"]["ProjectSummary"][];
        };
        /**
         * @description The order of a project listing.
         * @enum {string}
         */
        Sort: "new" | "top" | "active";
        /** @description A tag: 1–50 characters once normalised (NFKC, every run of whitespace one space, trimmed, lower-cased); no control or bidirectional control characters; at least one visible character. */
        Tag: string;
        /** @description A tag and how many projects carry it. */
        TagCount: {
            /** Format: int64 */
            project_count: number;
            tag: string;
        };
        /** @description A page of threads. */
        ThreadPage: {
            items: components["schemas"]["ThreadView"][];
            /** @description Give this as `cursor` for the next page; `null` on the last page. */
            next_cursor?: string | null;
        };
        /**
         * @description The order of a project's threads.
         * @enum {string}
         */
        ThreadSort: "top" | "new";
        /**
         * @description Where a thread stands.
         * @enum {string}
         */
        ThreadStatus: "pending" | "approved" | "rejected" | "withdrawn";
        /**
         * @description The kind of a thread.
         * @enum {string}
         */
        ThreadType: "PROBLEM" | "SOLUTION" | "COMMENT";
        /** @description A thread as listed and shown, as the reader may see it. */
        ThreadView: {
            /** @description The user id of the author. */
            author: string;
            /** @description The `name` claim of the author's token; `null` when it had none. */
            author_name?: string | null;
            /** @description RFC 3339. */
            created_at: string;
            /** Format: int64 */
            down_vote: number;
            /** @description RFC 3339; `null` until edited. */
            edited_at?: string | null;
            /**
             * @description The text: shown to everyone while the thread is `approved`; while it
             *     is `pending` or `rejected` only to its author and to moderators
             *     (`null` for everyone else); `null` for everyone once `withdrawn`.
             */
            message?: string | null;
            /** @description Whether `message` is withheld from this reader (`null` for that reason). */
            message_withheld: boolean;
            /**
             * @description Why the thread was rejected (the moderator's reason, or the automatic
             *     moderator's, naming the banned word). Shown to the author and to
             *     moderators only: `null` for everyone else, and when there is none.
             */
            moderation_reason?: string | null;
            my_vote?: null | components["schemas"]["Direction"];
            /** Format: uuid */
            parent_thread_id?: string | null;
            /** Format: uuid */
            project_id: string;
            /**
             * Format: int64
             * @description Replies, withdrawn ones left out.
             */
            reply_count: number;
            status: components["schemas"]["ThreadStatus"];
            /** Format: uuid */
            thread_id: string;
            /** @description `PROBLEM`, `SOLUTION` or `COMMENT`. */
            thread_type: string;
            /** Format: int64 */
            up_vote: number;
        };
        /** @description A thread with its replies, oldest first (at most 100). */
        ThreadWithReplies: components["schemas"]["ThreadView"] & {
            replies: components["schemas"]["ThreadView"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The service is alive. */
            200: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    feed: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the caller's feed (empty while they follow no tag). */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    followed_tags: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tags the caller follows (none at first). */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FollowedTags"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    hidden: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the caller's hidden projects. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    my_projects: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the caller's projects, newest first. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    my_threads: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
                /** @description Only threads in this status (default: any; withdrawn threads are never listed). */
                status?: "pending" | "approved" | "rejected";
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the caller's threads and replies, newest first. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus metrics (OpenMetrics text). */
            200: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/openmetrics-text": unknown;
                };
            };
        };
    };
    queue: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
                /** @description The queue: `pending` (default), threads waiting for a decision, or `rejected`. */
                status?: "pending" | "rejected";
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the queue, oldest first. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller lacks the `moderator` role. */
            403: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    openapi_json: {
        parameters: {
            query?: never;
            header?: {
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description This document. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    list_projects: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
                /** @description `new` (default): newest first. `top`: by the sum of the votes (`up_vote - down_vote`) on the project's threads. `active`: by the latest thread started, edited or voted on. */
                sort?: components["schemas"]["Sort"];
                /** @description Repeatable: only projects with every one of these tags (at most 10 once normalised and de-duplicated: no project has more). */
                tag?: components["schemas"]["Tag"][];
                /** @description Search: every word (a run of letters and digits) must start a word of the project's name or tagline, in any case; at most 200 characters and 10 different words (each matched on its first 24 characters). Blank: no search. */
                q?: string;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of projects. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    get_project: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The project. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectDetail"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    list_threads: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
                /** @description Only threads of this type. */
                type?: components["schemas"]["ThreadType"];
                /** @description `top` (default): by `up_vote - down_vote`; `new`: newest first. */
                sort?: components["schemas"]["ThreadSort"];
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of top-level threads. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description NATS and MongoDB are reachable and the projection lag is below `FLOW_MAX_LAG`. */
            200: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not ready; `detail` says why. */
            503: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    recommendations: {
        parameters: {
            query?: {
                /** @description How many (default 12). */
                limit?: number;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The recommended projects, best first. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Recommendations"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: `limit` out of 1–50, or an unknown parameter. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    list_tags: {
        parameters: {
            query?: {
                /** @description Only the most used tags (default: every tag). */
                limit?: number;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every tag carried by at least one project, most used first; ties by name. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TagCount"][];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: `limit` out of its range, given twice, or an unknown parameter. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    get_thread: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The thread and its replies, oldest first (at most 100). */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadWithReplies"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    list_replies: {
        parameters: {
            query?: {
                /** @description Items per page (default 20). */
                limit?: number;
                /** @description The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422). */
                cursor?: string;
            };
            header?: {
                /**
                 * @description The `consistency_token` of a write: the read waits (at most
                 *     `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
                 *     applied it, then answers either way, with the position reached in
                 *     `Projection-Position`. Anything but a token a write gave out is 400.
                 */
                "Consistency-Token"?: string;
                /** @description ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of replies, oldest first. */
            200: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadPage"];
                };
            };
            /** @description Not modified: `If-None-Match` names this answer's `ETag`. No body. */
            304: {
                headers: {
                    /** @description A strong validator of this answer's body. */
                    ETag: string;
                    /** @description `public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader. */
                    "Cache-Control": string;
                    /** @description `authorization, consistency-token`: the answer depends on the reader and on the write it waited for. */
                    Vary: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The `Consistency-Token` header is not a token a write gave out. */
            400: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing. */
            401: {
                headers: {
                    /** @description `Bearer`: the scheme the API accepts. */
                    "WWW-Authenticate"?: string;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing. */
            422: {
                headers: {
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The read model is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    /** @description The stream sequence the read model has applied. */
                    "Projection-Position": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
