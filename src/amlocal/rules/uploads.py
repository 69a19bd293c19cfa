"""The loop behind every datastore upload, with the progress lines azureml prints."""



def upload_with_progress(files, overwrite, show_progress, exists, put):
    """Upload [(local path, name in the datastore)]: ``exists(name)`` says whether the datastore
    has it (then it is skipped unless ``overwrite``), ``put(source, name)`` stores one file.
    Returns how many were uploaded."""
    say = print if show_progress else (lambda *args: None)
    say(f"Uploading an estimated of {len(files)} files")
    uploaded = 0
    for index, (source, name) in enumerate(files, 1):
        if not overwrite and exists(name):
            say(f"Target already exists. Skipping upload for {name}")
            continue
        put(source, name)
        uploaded += 1
        say(f"Uploaded {source}, {index} files out of an estimated total of {len(files)}")
    say(f"Uploaded {uploaded} files")
    return uploaded
