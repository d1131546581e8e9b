import { describe, expect, it } from "vitest";
import { anyInPages, ApiError, entryErrors, fieldErrors, type Page } from "./client";

describe("problem+json errors", () => {
  const problem = {
    type: "/problems/validation",
    title: "Unprocessable Entity",
    status: 422,
    detail: "the request has invalid fields",
    errors: [
      { field: "tagline", message: "tagline must not be empty" },
      { field: "problems", message: "at least one entry in problems is required" },
      { field: "tags[1]", message: "a tag has at most 50 characters" },
      { field: "tags[1]", message: "another rule" },
    ],
  };

  it("maps each message to the field it names, joining two for one field", () => {
    expect(fieldErrors(problem)).toEqual({
      tagline: "tagline must not be empty",
      problems: "at least one entry in problems is required",
      "tags[1]": "a tag has at most 50 characters; another rule",
    });
    expect(new ApiError(422, problem).fieldErrors.tagline).toBe("tagline must not be empty");
  });

  it("finds a list's entries by index, and the list itself as -1", () => {
    const byField = fieldErrors(problem);
    expect([...entryErrors(byField, "tags")]).toEqual([[1, "a tag has at most 50 characters; another rule"]]);
    expect([...entryErrors(byField, "problems")]).toEqual([[-1, "at least one entry in problems is required"]]);
    expect(entryErrors(byField, "solutions").size).toBe(0);
  });

  it("says what failed when there is no problem document", () => {
    expect(new ApiError(0, { title: "The server cannot be reached." }).message).toBe("The server cannot be reached.");
    expect(new ApiError(502, {}).message).toBe("The request failed (502).");
    expect(new ApiError(422, problem).message).toBe("the request has invalid fields");
  });
});

describe("anyInPages", () => {
  const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
    first: { items: [1, 2], next_cursor: "b" },
    b: { items: [3, 4], next_cursor: "c" },
    c: { items: [5], next_cursor: null },
  };
  const read: string[] = [];
  const load = async (cursor: string | undefined): Promise<Page<number>> => {
    read.push(cursor ?? "first");
    return pages[cursor ?? "first"] ?? { items: [], next_cursor: null };
  };

  it("reads on until an item matches", async () => {
    read.length = 0;
    expect(await anyInPages(load, (n) => n === 3)).toBe(true);
    expect(read).toEqual(["first", "b"]);
  });

  it("reads every page when none matches", async () => {
    read.length = 0;
    expect(await anyInPages(load, (n) => n === 9)).toBe(false);
    expect(read).toEqual(["first", "b", "c"]);
  });
});
