import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";

import { fileURL, parseListing } from "../src/runtimes/pyodide/files";
import { sha256 } from "../src/runtimes/pyodide/sha256";

test("sha256 is SHA-256: every length around the block and padding edges, and 5 MB", () => {
  const data = randomBytes(5_000_003);
  for (const length of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, data.length]) {
    const bytes = new Uint8Array(data.subarray(0, length));
    assert.equal(sha256(bytes), createHash("sha256").update(bytes).digest("hex"), `length ${length}`);
  }
  assert.equal(sha256(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

const digest = "a".repeat(64);
const listing = (files: unknown[], extra: object = {}) => ({ format: "livecells-files/1", root: "../../", folder: "lec", files, ...extra });

test("a listing is read as it was written", () => {
  const files = [
    { path: "lec/prices.csv", size: 12, sha256: digest },
    { path: "lec/data/note.txt", size: 0, sha256: digest },
  ];
  assert.deepEqual(parseListing(listing(files)), { root: "../../", folder: "lec", files });
});

test("a listing that names anything outside the site, or is not one, is refused naming the entry", () => {
  const wrong: [unknown, RegExp][] = [
    [null, /not a livecells file listing/],
    [{ ...listing([]), format: "other" }, /not a livecells file listing/],
    [listing([], { folder: "../up" }), /folder "..\/up" is not a folder of the site/],
    [listing([{ path: "../../etc/passwd", size: 1, sha256: digest }]), /files\[0\]\.path "..\/..\/etc\/passwd" is not a path inside the site/],
    [listing([{ path: "/etc/passwd", size: 1, sha256: digest }]), /files\[0\]\.path/],
    [listing([{ path: "lec/.env", size: 1, sha256: digest }]), /files\[0\]\.path "lec\/.env"/],
    [listing([{ path: "a//b", size: 1, sha256: digest }]), /files\[0\]\.path/],
    [listing([{ path: "a", size: -1, sha256: digest }]), /files\[0\]\.size/],
    [listing([{ path: "a", size: 1, sha256: "xyz" }]), /files\[0\]\.sha256/],
    [listing([{ path: "a", size: 1, sha256: digest }, { path: "a/b", size: 1, sha256: digest }]), /files\[1\]\.path a\/b is inside a, which is a file/],
    [listing([{ path: "a/b", size: 1, sha256: digest }, { path: "a", size: 1, sha256: digest }]), /files\[1\]\.path a is listed twice, or as a file and a folder/],
  ];
  for (const [value, message] of wrong) assert.throws(() => parseListing(value), message);
});

test("a file's URL quotes each part of its path under the root", () => {
  assert.equal(fileURL("http://h/book/", "lec/a b#1.csv"), "http://h/book/lec/a%20b%231.csv");
  assert.equal(fileURL("file:///srv/book/", "x/y.txt"), "file:///srv/book/x/y.txt");
});
