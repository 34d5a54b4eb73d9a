// The file chosen in an <input type="file">, handed to `work`; the input is cleared afterwards, so
// choosing the same file again fires `change` again. The element is kept before any await
// (`currentTarget` is null once one has passed). A failure of `work` is `onError`'s to show.

export async function withChosenFile(
	e: Event & { currentTarget: HTMLInputElement },
	work: (file: File) => Promise<void>,
	onError: (message: string) => void
): Promise<void> {
	const input = e.currentTarget;
	const file = input.files?.[0];
	if (!file) return;
	try {
		await work(file);
	} catch (err) {
		onError((err as Error).message);
	} finally {
		input.value = '';
	}
}
