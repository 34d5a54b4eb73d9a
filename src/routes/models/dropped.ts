// The files of a drop on the Models page: dropped files as they are, and a dropped folder's files
// read through the File System entries API (one level: a model folder is flat).

/** Every file of a drop, a dropped folder's files included. */
export async function filesOfDrop(e: DragEvent): Promise<File[]> {
	const items = [...(e.dataTransfer?.items ?? [])];
	const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
	if (entries.length === 0) return [...(e.dataTransfer?.files ?? [])];
	const out: File[] = [];
	for (const entry of entries) {
		if (entry.isFile) out.push(await fileOf(entry as FileSystemFileEntry));
		else if (entry.isDirectory)
			for (const child of await children(entry as FileSystemDirectoryEntry))
				if (child.isFile) out.push(await fileOf(child as FileSystemFileEntry));
	}
	return out;
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((ok, fail) => entry.file(ok, fail));

/** A folder's entries (readEntries answers in batches until an empty one). */
async function children(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
	const reader = dir.createReader();
	const all: FileSystemEntry[] = [];
	for (;;) {
		const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
		if (batch.length === 0) return all;
		all.push(...batch);
	}
}
