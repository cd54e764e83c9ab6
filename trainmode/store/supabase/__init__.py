"""The Supabase backend: PostgREST rows and Storage blobs (store), its answers and errors, setup and check."""
