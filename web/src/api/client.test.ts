import { describe, expect, it } from "vitest";
import { ApiError, entryErrors, fieldErrors } from "./client";

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
